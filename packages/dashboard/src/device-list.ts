import type { DevicePresence } from './api.js';

/** Rows are one fixed height, so the list can place any row without measuring it. */
const ROW_PX = 30;
/** Rows drawn above and below the viewport, so a fast scroll shows no blank band. */
const OVERSCAN = 8;

export type StatusFilter = 'all' | 'online' | 'offline';

interface Row {
  device: DevicePresence;
  /** 1 for a sub-device shown under its gateway. */
  depth: number;
  /** How many of its sub-devices a gateway has. */
  children: number;
}

function ago(ts: number | undefined): string {
  if (ts === undefined) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  return s < 60
    ? `${s}s ago`
    : s < 3600
      ? `${Math.round(s / 60)}m ago`
      : new Date(ts).toLocaleString();
}

const byStatusThenId = (a: DevicePresence, b: DevicePresence): number =>
  Number(b.online) - Number(a.online) || a.deviceId.localeCompare(b.deviceId);

/**
 * The fleet's devices as a virtualised list: only the rows in view (plus a few) are in the DOM,
 * so ten thousand devices scroll like ten. Filtered by a search text and online/offline;
 * sub-devices (a `gateway` field in the device list API) are listed under their gateway, and a
 * matching sub-device keeps its gateway in view for context.
 */
export class DeviceList {
  private rows: Row[] = [];
  private dirty = true;
  private query = '';
  private status: StatusFilter = 'all';
  private frame = 0;
  selected: string | undefined;

  constructor(
    private readonly devices: Map<string, DevicePresence>,
    private readonly viewport: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly list: HTMLUListElement,
    private readonly summary: HTMLElement,
    onSelect: (deviceId: string) => void,
  ) {
    viewport.addEventListener('scroll', () => this.schedule(false));
    list.addEventListener('click', (event) => {
      const item = (event.target as HTMLElement).closest('li');
      const id = item?.dataset['device'];
      if (id) onSelect(id);
    });
  }

  filter(query: string, status: StatusFilter): void {
    this.query = query.trim().toLowerCase();
    this.status = status;
    this.viewport.scrollTop = 0;
    this.schedule(true);
  }

  /** The devices changed (or the clock moved on): redraw at the next frame, once. */
  schedule(changed = true): void {
    this.dirty ||= changed;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** The rows after filtering, in display order (exposed for tests and the overview). */
  visibleRows(): readonly Row[] {
    if (this.dirty) this.rebuild();
    return this.rows;
  }

  private matches(device: DevicePresence): boolean {
    if (this.status === 'online' && !device.online) return false;
    if (this.status === 'offline' && device.online) return false;
    return this.query === '' || device.deviceId.toLowerCase().includes(this.query);
  }

  private rebuild(): void {
    this.dirty = false;
    const children = new Map<string, DevicePresence[]>();
    const roots: DevicePresence[] = [];
    for (const device of this.devices.values()) {
      if (device.gateway && this.devices.has(device.gateway)) {
        const siblings = children.get(device.gateway) ?? [];
        siblings.push(device);
        children.set(device.gateway, siblings);
      } else roots.push(device);
    }
    roots.sort(byStatusThenId);
    const rows: Row[] = [];
    for (const root of roots) {
      const subs = (children.get(root.deviceId) ?? []).sort(byStatusThenId);
      const shownSubs = subs.filter((d) => this.matches(d));
      if (!this.matches(root) && shownSubs.length === 0) continue;
      rows.push({ device: root, depth: 0, children: subs.length });
      for (const sub of shownSubs) rows.push({ device: sub, depth: 1, children: 0 });
    }
    this.rows = rows;
  }

  private render(): void {
    const rows = this.visibleRows();
    this.spacer.style.height = `${rows.length * ROW_PX}px`;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_PX) - OVERSCAN);
    const count = Math.ceil(this.viewport.clientHeight / ROW_PX) + 2 * OVERSCAN;
    const slice = rows.slice(first, first + count);
    this.list.style.transform = `translateY(${first * ROW_PX}px)`;
    this.list.replaceChildren(...slice.map((row) => this.item(row)));
    const online = [...this.devices.values()].filter((d) => d.online).length;
    this.summary.textContent = `${rows.length} of ${this.devices.size} shown · ${online} online`;
  }

  private item({ device, depth, children }: Row): HTMLLIElement {
    const item = document.createElement('li');
    item.dataset['device'] = device.deviceId;
    item.dataset['online'] = String(device.online);
    item.dataset['depth'] = String(depth);
    if (device.gateway) item.dataset['gateway'] = device.gateway;
    item.className = device.deviceId === this.selected ? 'selected' : '';
    item.innerHTML = `<span class="dot"></span><span class="name"></span><small></small>`;
    (item.querySelector('.name') as HTMLElement).textContent =
      children > 0 ? `${device.deviceId} (${children})` : device.deviceId;
    (item.querySelector('small') as HTMLElement).textContent = device.online
      ? 'online'
      : `last seen ${ago(device.lastSeen)}`;
    return item;
  }
}
