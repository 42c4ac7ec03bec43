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
   * restart) and are back (the caller says the device is online again).
   */
  renew(devices: HeldDevice[], node: string, now: number): Promise<RenewResult>;
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

/** Sort order of `PresenceStore.list`: by device id, code unit order (as Redis sorts keys). */
export function byDeviceId(a: DeviceRef, b: DeviceRef): number {
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}
