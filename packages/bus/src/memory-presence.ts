import {
  MAX_NODE_LOADS,
  byDeviceId,
  deviceRefKey,
  parseDeviceRef,
  type DeviceRef,
  type NodeLoad,
  type HeldDevice,
  type PresenceRecord,
  type PresenceStore,
  type RenewResult,
} from './presence.js';

interface Entry {
  node: string;
  connectedAt: number;
  expiresAt: number;
}

/** The in-process twin of RedisPresence, with the same TTL rules on an injected clock. */
export class MemoryPresence implements PresenceStore {
  private readonly online = new Map<string, Entry>();
  private readonly lastSeen = new Map<string, number>();
  private readonly gateways = new Map<string, string>();
  private readonly heartbeats = new Map<string, number>();
  private readonly nodeDevices = new Map<string, Set<string>>();
  private readonly loads = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  async markOnline(device: HeldDevice, node: string, now: number): Promise<void> {
    const key = deviceRefKey(device);
    if (device.gateway === undefined) this.gateways.delete(key);
    else this.gateways.set(key, device.gateway);
    this.online.set(key, { node, connectedAt: now, expiresAt: now + this.ttlMs });
    this.lastSeen.set(key, now);
    this.heartbeats.set(node, now);
    this.devicesOf(node).add(key);
  }

  async markOffline(device: DeviceRef, node: string, now: number): Promise<void> {
    const key = deviceRefKey(device);
    this.devicesOf(node).delete(key);
    if (this.online.get(key)?.node !== node) return;
    this.online.delete(key);
    this.lastSeen.set(key, now);
  }

  async renew(
    devices: HeldDevice[],
    node: string,
    now: number,
    connections?: number,
  ): Promise<RenewResult> {
    this.heartbeats.set(node, now);
    if (connections === undefined) this.loads.delete(node);
    else this.loads.set(node, connections);
    const result: RenewResult = { moved: [], restored: [] };
    for (const device of devices) {
      const key = deviceRefKey(device);
      const entry = this.online.get(key);
      const live = entry !== undefined && entry.expiresAt > now;
      if (live && entry.node !== node) {
        result.moved.push(refOf(device));
        continue;
      }
      if (device.gateway !== undefined) this.gateways.set(key, device.gateway);
      if (!live) result.restored.push(refOf(device));
      this.online.set(key, {
        node,
        connectedAt: live ? entry.connectedAt : now,
        expiresAt: now + this.ttlMs,
      });
      this.lastSeen.set(key, now);
      this.devicesOf(node).add(key);
    }
    return result;
  }

  async get(device: DeviceRef, now: number): Promise<PresenceRecord> {
    const key = deviceRefKey(device);
    const entry = this.online.get(key);
    const lastSeen = this.lastSeen.get(key);
    const gateway = this.gateways.get(key);
    const base = {
      ...refOf(device),
      ...(lastSeen === undefined ? {} : { lastSeen }),
      ...(gateway === undefined ? {} : { gateway }),
    };
    if (!entry || entry.expiresAt <= now) return { ...base, online: false };
    return { ...base, online: true, node: entry.node, connectedAt: entry.connectedAt };
  }

  async list(tenant: string, now: number): Promise<PresenceRecord[]> {
    const keys = new Set<string>();
    for (const key of [...this.lastSeen.keys(), ...this.online.keys()]) {
      if (parseDeviceRef(key).tenant === tenant) keys.add(key);
    }
    const records = await Promise.all([...keys].map((key) => this.get(parseDeviceRef(key), now)));
    return records.sort(byDeviceId);
  }

  async nodeLoads(now: number): Promise<NodeLoad[]> {
    const loads: NodeLoad[] = [];
    for (const [node, at] of this.heartbeats) {
      const connections = this.loads.get(node);
      if (at > now - this.ttlMs && connections !== undefined) {
        loads.push({ node, connections, at });
      }
    }
    return loads
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
      .slice(0, MAX_NODE_LOADS);
  }

  async reapDeadNodes(now: number): Promise<DeviceRef[]> {
    const reaped: DeviceRef[] = [];
    for (const [node, beat] of this.heartbeats) {
      if (beat > now - this.ttlMs) continue;
      this.heartbeats.delete(node);
      this.loads.delete(node);
      for (const key of this.devicesOf(node)) {
        const entry = this.online.get(key);
        if (entry && entry.node !== node) continue;
        this.online.delete(key);
        reaped.push(parseDeviceRef(key));
      }
      this.nodeDevices.delete(node);
    }
    return reaped;
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

function refOf({ tenant, deviceId }: DeviceRef): DeviceRef {
  return { tenant, deviceId };
}
