import { ApiError, deviceState, patchDesired, type DeviceStateDocument } from './api.js';

const $ = <T extends HTMLElement>(root: ParentNode, selector: string): T =>
  root.querySelector(selector) as T;

function shown(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}

/**
 * A device's state document: desired next to reported per key, the keys still pending (the
 * delta), and a form to change one desired key. Edits go through `PATCH …/state` with the version
 * shown as If-Match, so an edit made on an outdated view is refused (412) instead of overwriting
 * someone else's; the panel then reloads. Changes arrive live (`devices/+/state`), so the delta
 * is seen to close when the device reports.
 */
export class StatePanel {
  private doc: DeviceStateDocument | undefined;
  private deviceId: string | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly token: string,
  ) {
    $<HTMLFormElement>(root, '#desired-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  async open(deviceId: string): Promise<void> {
    this.deviceId = deviceId;
    this.doc = undefined;
    this.say('loading…', 'pending');
    try {
      const doc = await deviceState(this.token, deviceId);
      if (this.deviceId !== deviceId) return;
      this.changed(doc);
      this.say('', 'ok');
    } catch (error) {
      if (this.deviceId === deviceId) this.failed(error);
    }
  }

  /**
   * A document from a live `state` delivery or an HTTP answer: shown if it is this device's and
   * newer. The two travel on different connections, so an answer can arrive after the live
   * changes that followed it (the device's report closing the delta it asked for).
   */
  changed(doc: DeviceStateDocument): void {
    if (doc.deviceId !== this.deviceId) return;
    if (this.doc && this.doc.version >= doc.version) return;
    this.show(doc);
  }

  private show(doc: DeviceStateDocument): void {
    this.doc = doc;
    $(this.root, '#state-version').textContent = `version ${doc.version}`;
    const keys = [...new Set([...Object.keys(doc.desired), ...Object.keys(doc.reported)])].sort();
    $(this.root, '#state-table tbody').replaceChildren(
      ...keys.map((key) => {
        const row = document.createElement('tr');
        const pending = Object.hasOwn(doc.delta, key);
        row.dataset['key'] = key;
        row.dataset['pending'] = String(pending);
        // Own keys only: a device may name a key `constructor` or `toString`.
        const desired = Object.hasOwn(doc.desired, key) ? doc.desired[key] : undefined;
        const reported = Object.hasOwn(doc.reported, key) ? doc.reported[key] : undefined;
        for (const text of [key, shown(desired), shown(reported)]) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        const status = document.createElement('td');
        status.textContent = pending
          ? 'pending'
          : Object.hasOwn(doc.desired, key)
            ? 'in sync'
            : 'reported';
        row.append(status);
        return row;
      }),
    );
    const pending = Object.keys(doc.delta).length;
    const delta = $(this.root, '#state-delta');
    delta.dataset['pending'] = String(pending);
    delta.textContent =
      pending === 0 ? 'delta: none, the device has what is desired' : `delta: ${shown(doc.delta)}`;
  }

  private async submit(): Promise<void> {
    const deviceId = this.deviceId;
    if (!deviceId || !this.doc) return;
    const key = $<HTMLInputElement>(this.root, '#desired-key').value.trim();
    const raw = $<HTMLInputElement>(this.root, '#desired-value').value.trim();
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      this.say('the value must be JSON: true, 21.5, "eco", null to remove', 'error');
      return;
    }
    this.say(`setting ${key}…`, 'pending');
    try {
      const doc = await patchDesired(this.token, deviceId, { [key]: value }, this.doc.version);
      if (this.deviceId !== deviceId) return;
      this.changed(doc);
      // The status follows the request: a live change meanwhile does not end "setting …".
      this.say('', 'ok');
    } catch (error) {
      // Someone else changed it first: show what is there now, the edit can be made again.
      if (error instanceof ApiError && error.code === 'precondition_failed') {
        const doc = await deviceState(this.token, deviceId).catch(() => undefined);
        if (doc) this.changed(doc);
      }
      if (this.deviceId === deviceId) this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.say(
      error instanceof ApiError ? `${error.code}: ${error.message}` : 'state unavailable',
      'error',
    );
  }

  private say(text: string, state: 'ok' | 'pending' | 'error'): void {
    const status = $(this.root, '#state-status');
    status.dataset['state'] = state;
    status.textContent = text;
  }
}
