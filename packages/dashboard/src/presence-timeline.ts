import type { DevicePresence } from './api.js';

interface Transition {
  ts: number;
  online: boolean;
}

/**
 * When the device was online over the chosen range, as a bar of green and grey segments: from
 * its presence record (connected at / last seen) and every presence event since the page opened.
 */
export class PresenceTimeline {
  private transitions: Transition[] = [];
  private rangeMs = 3_600_000;

  constructor(
    private readonly bar: HTMLElement,
    private readonly caption: HTMLElement,
  ) {}

  reset(record: DevicePresence | undefined): void {
    this.transitions = [];
    if (record?.online && record.connectedAt) {
      this.transitions.push({ ts: record.connectedAt, online: true });
    } else if (record && !record.online && record.lastSeen) {
      this.transitions.push({ ts: record.lastSeen, online: false });
    } else if (record) {
      this.transitions.push({ ts: Date.now(), online: record.online });
    }
    this.render();
  }

  setRange(ms: number): void {
    this.rangeMs = ms;
    this.render();
  }

  add(ts: number, online: boolean): void {
    const last = this.transitions[this.transitions.length - 1];
    if (last?.online === online) return;
    this.transitions.push({ ts, online });
    this.render();
  }

  render(): void {
    const now = Date.now();
    const from = now - this.rangeMs;
    const segments: { from: number; to: number; online: boolean | undefined }[] = [];
    let state: boolean | undefined;
    let cursor = from;
    for (const t of this.transitions) {
      if (t.ts <= from) {
        state = t.online;
        continue;
      }
      segments.push({ from: cursor, to: t.ts, online: state });
      cursor = t.ts;
      state = t.online;
    }
    segments.push({ from: cursor, to: now, online: state });
    this.bar.replaceChildren(
      ...segments
        .filter((s) => s.to > s.from)
        .map((s) => {
          const part = document.createElement('span');
          part.style.width = `${((s.to - s.from) / this.rangeMs) * 100}%`;
          part.dataset['online'] = s.online === undefined ? 'unknown' : String(s.online);
          part.title = `${s.online === undefined ? 'unknown' : s.online ? 'online' : 'offline'} from ${new Date(s.from).toLocaleString()}`;
          return part;
        }),
    );
    const changes = this.transitions.filter((t) => t.ts > from).length;
    this.caption.textContent = `${changes} change${changes === 1 ? '' : 's'} in range`;
  }
}
