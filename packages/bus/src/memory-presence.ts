import { randomBytes } from 'node:crypto';

import { openIdCursor, sealIdCursor } from './presence-cursor.js';
import {
  DEFAULT_MAX_DEVICES_PER_TENANT,
  MAX_NODE_LOADS,
  deviceRefKey,
  heldDevices,
  parseDeviceRef,
  type DevicePage,
  type DeviceRef,
  type ForgetResult,
  type HeldDevice,
  type NodeLoad,
  type OnlineResult,
  type PageQuery,
  type PresenceLimits,
  type PresenceRecord,
  type PresenceStore,
  type ReapedDevice,
  type RenewResult,
} from './presence.js';

/** A device's record: `node` set while a node holds it; `t` its connect time, or last seen. */
interface Entry {
  t: number;
  node?: string;
  gateway?: string;
}

interface Lease {
  at: number;
  connections?: number;
  /** The store instance that last renewed it; none since it was (re)created. */
  renewedBy?: MemoryPresence;
}

/** What Redis would hold: shared by the instances over it. */
interface State {
  records: Map<string, Entry>;
  leases: Map<string, Lease>;
  nodeDevices: Map<string, Set<string>>;
  /** Per tenant, the ids of its records in id order (their count is what HLEN answers in Redis). */
  tenantIds: Map<string, string[]>;
  /** Seals the page cursors of `listPage`. */
  cursorKey: Buffer;
}

/** The in-process twin of RedisPresence: the same lease rules on an injected clock. */
export class MemoryPresence implements PresenceStore {
  private readonly records: Map<string, Entry>;
  private readonly leases: Map<string, Lease>;
  private readonly nodeDevices: Map<string, Set<string>>;
  private readonly tenantIds: Map<string, string[]>;
  private readonly maxDevicesPerTenant: number;

  constructor(
    private readonly ttlMs: number,
    private readonly limits: PresenceLimits = {},
    private readonly state: State = {
      records: new Map(),
      leases: new Map(),
      nodeDevices: new Map(),
      tenantIds: new Map(),
      cursorKey: randomBytes(32),
    },
  ) {
    ({
      records: this.records,
      leases: this.leases,
      nodeDevices: this.nodeDevices,
      tenantIds: this.tenantIds,
    } = state);
    this.maxDevicesPerTenant = limits.maxDevicesPerTenant ?? DEFAULT_MAX_DEVICES_PER_TENANT;
  }

  /** Another store over the same records, as a node's restarted process opens one (tests). */
  instance(limits: PresenceLimits = this.limits): MemoryPresence {
    return new MemoryPresence(this.ttlMs, limits, this.state);
  }

  async markOnline(device: HeldDevice, node: string, now: number): Promise<OnlineResult> {
    const key = deviceRefKey(device);
    const known = this.records.get(key);
    if (!known && (this.tenantIds.get(device.tenant)?.length ?? 0) >= this.maxDevicesPerTenant) {
      return { refused: 'device_limit' };
    }
    const previous = known?.node;
    this.setRecord(key, device, {
      t: now,
      node,
      ...(device.gateway === undefined ? {} : { gateway: device.gateway }),
    });
    this.devicesOf(node).add(key);
    if (!this.leases.has(node)) this.leases.set(node, { at: now });
    return previous === undefined || previous === node ? {} : { previous };
  }

  async markOffline(device: DeviceRef, node: string, now: number): Promise<boolean> {
    const key = deviceRefKey(device);
    this.devicesOf(node).delete(key);
    const entry = this.records.get(key);
    if (entry?.node !== node) return entry?.node === undefined;
    this.records.set(key, {
      t: now,
      ...(entry.gateway === undefined ? {} : { gateway: entry.gateway }),
    });
    return true;
  }

  async renew(
    devices: HeldDevice[] | (() => HeldDevice[]),
    node: string,
    now: number,
    connections?: number,
  ): Promise<RenewResult> {
    const lease = this.leases.get(node);
    this.leases.set(node, {
      at: now,
      ...(connections === undefined ? {} : { connections }),
      renewedBy: this,
    });
    const result: RenewResult = { moved: [], restored: [], released: [] };
    if (lease?.renewedBy === this) return result;
    const held = heldDevices(devices);
    const keys = new Set(held.map(deviceRefKey));
    for (const key of this.devicesOf(node)) {
      if (keys.has(key)) continue;
      this.devicesOf(node).delete(key);
      const entry = this.records.get(key);
      if (entry?.node !== node) continue;
      this.records.set(key, {
        t: now,
        ...(entry.gateway === undefined ? {} : { gateway: entry.gateway }),
      });
      result.released.push(parseDeviceRef(key));
    }
    for (const device of held) {
      const key = deviceRefKey(device);
      const entry = this.records.get(key);
      if (entry?.node === node) continue;
      if (entry?.node !== undefined) {
        result.moved.push(refOf(device));
        continue;
      }
      this.setRecord(key, device, {
        t: now,
        node,
        ...(device.gateway === undefined ? {} : { gateway: device.gateway }),
      });
      this.devicesOf(node).add(key);
      result.restored.push(refOf(device));
    }
    return result;
  }

  async get(device: DeviceRef, now: number): Promise<PresenceRecord> {
    return this.toRecord(device, this.records.get(deviceRefKey(device)), now);
  }

  async owner(device: DeviceRef): Promise<string | undefined> {
    return this.records.get(deviceRefKey(device))?.node;
  }

  private toRecord(device: DeviceRef, entry: Entry | undefined, now: number): PresenceRecord {
    const ref = refOf(device);
    if (!entry) return { ...ref, online: false };
    const gateway = entry.gateway === undefined ? {} : { gateway: entry.gateway };
    const lease = entry.node === undefined ? undefined : this.leases.get(entry.node);
    if (entry.node === undefined || !lease || lease.at <= now - this.ttlMs) {
      // A record whose node's lease is dead: the last heartbeat is when it was last seen.
      const lastSeen = entry.node === undefined ? entry.t : Math.max(entry.t, lease?.at ?? 0);
      return { ...ref, online: false, lastSeen, ...gateway };
    }
    return {
      ...ref,
      online: true,
      node: entry.node,
      connectedAt: entry.t,
      lastSeen: Math.max(entry.t, lease.at),
      ...gateway,
    };
  }

  async listPage(tenant: string, now: number, query: PageQuery): Promise<DevicePage> {
    const after =
      query.cursor === undefined ? undefined : openIdCursor(this.state.cursorKey, query.cursor);
    const ids = this.tenantIds.get(tenant) ?? [];
    // The first id past the cursor: a page costs its own length, whatever the tenant's size.
    let from = after === undefined ? 0 : sortedIndex(ids, after);
    if (after !== undefined && ids[from] === after) from += 1;
    const page = ids.slice(from, from + query.limit);
    const records = page.map((deviceId) =>
      this.toRecord(
        { tenant, deviceId },
        this.records.get(deviceRefKey({ tenant, deviceId })),
        now,
      ),
    );
    const last = page.at(-1);
    return from + page.length < ids.length && last !== undefined
      ? { records, next: sealIdCursor(this.state.cursorKey, last) }
      : { records };
  }

  async forget(device: DeviceRef): Promise<ForgetResult> {
    const key = deviceRefKey(device);
    const entry = this.records.get(key);
    if (!entry) return 'unknown';
    if (entry.node !== undefined) return 'held';
    this.records.delete(key);
    const ids = this.tenantIds.get(device.tenant) ?? [];
    ids.splice(sortedIndex(ids, device.deviceId), 1);
    return 'forgotten';
  }

  async nodeLoads(now: number): Promise<NodeLoad[]> {
    const loads: NodeLoad[] = [];
    for (const [node, { at, connections }] of this.leases) {
      if (at > now - this.ttlMs && connections !== undefined) {
        loads.push({ node, connections, at });
      }
    }
    return loads
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
      .slice(0, MAX_NODE_LOADS);
  }

  async reapDeadNodes(now: number): Promise<ReapedDevice[]> {
    const reaped: ReapedDevice[] = [];
    for (const [node, { at }] of this.leases) {
      if (at > now - this.ttlMs) continue;
      this.leases.delete(node);
      for (const key of this.devicesOf(node)) {
        const entry = this.records.get(key);
        if (entry?.node !== node) continue;
        this.records.set(key, {
          t: at,
          ...(entry.gateway === undefined ? {} : { gateway: entry.gateway }),
        });
        reaped.push({ ...parseDeviceRef(key), node });
      }
      this.nodeDevices.delete(node);
    }
    return reaped;
  }

  /** Forgets everything, as a Redis restart without persistence would (tests). */
  flush(): void {
    this.records.clear();
    this.leases.clear();
    this.nodeDevices.clear();
    this.tenantIds.clear();
  }

  /**
   * Writes `device`'s record (`key` is its deviceRefKey), counting it against its tenant if it is
   * new (restores are not refused).
   */
  private setRecord(key: string, { tenant, deviceId }: DeviceRef, entry: Entry): void {
    if (!this.records.has(key)) {
      let ids = this.tenantIds.get(tenant);
      if (!ids) {
        ids = [];
        this.tenantIds.set(tenant, ids);
      }
      ids.splice(sortedIndex(ids, deviceId), 0, deviceId);
    }
    this.records.set(key, entry);
  }

  private devicesOf(node: string): Set<string> {
    let set = this.nodeDevices.get(node);
    if (!set) {
      set = new Set();
      this.nodeDevices.set(node, set);
    }
    return set;
  }
}

/** Where `id` is, or would go, in the sorted `ids` (code unit order, as `byDeviceId`). */
function sortedIndex(ids: readonly string[], id: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ids[middle] as string) < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

function refOf({ tenant, deviceId }: DeviceRef): DeviceRef {
  return { tenant, deviceId };
}
