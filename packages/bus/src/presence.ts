/** Where a device is connected, as the cluster knows it. */
export interface PresenceRecord {
  tenant: string;
  deviceId: string;
  online: boolean;
  /** The node holding the device's connection, while online. */
  node?: string;
  /** ms since the epoch. */
  connectedAt?: number;
  /** Last time the device was known connected (renewals while online, the disconnect after). */
  lastSeen?: number;
  /**
   * The gateway that last announced this device (a sub-device), kept after it goes offline;
   * absent for a device that connected by itself last.
   */
  gateway?: string;
}

export interface RenewResult {
  moved: DeviceRef[];
  restored: DeviceRef[];
}

/** A node's heartbeat as its peers see it: how many connections it held when it last renewed. */
export interface NodeLoad {
  node: string;
  connections: number;
  /** When the node last renewed (ms since the epoch). */
  at: number;
}

export interface DeviceRef {
  tenant: string;
  deviceId: string;
}

/** A device a node holds: on its own connection, or through a gateway's. */
export interface HeldDevice extends DeviceRef {
  gateway?: string;
}

/**
 * Presence records with a time-to-live renewed by the owning node: if a node dies, its devices
 * read as offline within one TTL, and `reapDeadNodes` (run by any live node) reports them so
 * their offline events are still published.
 */
export interface PresenceStore {
  /** `gateway`: the gateway the device is attached to; none for a device connected itself. */
  markOnline(device: HeldDevice, node: string, now: number): Promise<void>;
  /** Marks the device offline unless another node holds it by now. */
  markOffline(device: DeviceRef, node: string, now: number): Promise<void>;
  /**
   * Renews the records of a node's devices and the node's own heartbeat, never overwriting a
   * record another node wrote meanwhile. `moved`: devices another node holds by now (the caller
   * lets go of them); `restored`: records that had vanished (expired, reaped, lost with a Redis
   * restart) and are back (the caller says the device is online again). `connections`: how many
   * connections the node holds, kept with its heartbeat for its peers (`nodeLoads`); left out, the
   * node reports no load (a draining node, which takes no part in spreading connections).
   */
  renew(
    devices: HeldDevice[],
    node: string,
    now: number,
    connections?: number,
  ): Promise<RenewResult>;
  /**
   * The loads of the nodes whose heartbeat is younger than the TTL and that reported one, sorted
   * by node: O(nodes), for a node to compare itself with its peers.
   */
  nodeLoads(now: number): Promise<NodeLoad[]>;
  get(device: DeviceRef, now: number): Promise<PresenceRecord>;
  /**
   * Every device of the tenant the store knows (online now, or seen before), sorted by device
   * id. Known means it has a last-seen time, which is kept without a TTL.
   */
  list(tenant: string, now: number): Promise<PresenceRecord[]>;
  /**
   * Finds nodes whose heartbeat is older than the TTL, claims each (one reaper per dead node),
   * and returns their devices that no live node took over, marking them offline.
   */
  reapDeadNodes(now: number): Promise<DeviceRef[]>;
}

export function deviceRefKey({ tenant, deviceId }: DeviceRef): string {
  return `${tenant}/${deviceId}`;
}

export function parseDeviceRef(key: string): DeviceRef {
  const slash = key.indexOf('/');
  return { tenant: key.slice(0, slash), deviceId: key.slice(slash + 1) };
}

/** Most nodes `nodeLoads` answers: a bound on one read, far above any cluster's size. */
export const MAX_NODE_LOADS = 1024;

/** A stored connection count, or undefined when it is not a sane one (written by any Redis user). */
export function parseConnections(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/** Sort order of `PresenceStore.list`: by device id, code unit order (as Redis sorts keys). */
export function byDeviceId(a: DeviceRef, b: DeviceRef): number {
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}
