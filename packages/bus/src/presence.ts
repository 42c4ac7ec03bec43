/** Where a device is connected, as the cluster knows it. */
export interface PresenceRecord {
  tenant: string;
  deviceId: string;
  online: boolean;
  /** The node holding the device's connection, while online. */
  node?: string;
  /** ms since the epoch. */
  connectedAt?: number;
  /**
   * Last time the device was known connected: while online, its node's last heartbeat (or the
   * connect, if later); offline, when it left (or its dead node's last heartbeat).
   */
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
  /**
   * Devices whose records named the node but that it does not hold: a predecessor process under
   * the same node id held them when it died. Marked offline; the caller says so.
   */
  released: DeviceRef[];
}

/**
 * What a connect found: the node the device's record named before, if another one did; or that
 * the device is new to a tenant that knows its maximum of devices (nothing was written).
 */
export type OnlineResult =
  | {
      /** Live or not: whoever it names may still hold an old socket of the device (takeover). */
      previous?: string;
      refused?: undefined;
    }
  | { refused: 'device_limit'; previous?: undefined };

/** What `forget` did: removed the record, or not (the device is held by a node, or unknown). */
export type ForgetResult = 'forgotten' | 'held' | 'unknown';

/** Bounds a presence store keeps. */
export interface PresenceLimits {
  /**
   * Devices a tenant may have records of (online or seen before). A device new to a tenant at
   * the limit is refused (`OnlineResult.refused`): a gateway token naming a pattern could
   * otherwise add records for good, at its message rate. Default `DEFAULT_MAX_DEVICES_PER_TENANT`.
   */
  maxDevicesPerTenant?: number;
}

export const DEFAULT_MAX_DEVICES_PER_TENANT = 100_000;

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

/** A device a dead node held, marked offline by a reaper. */
export interface ReapedDevice extends DeviceRef {
  node: string;
}

/** A device a node holds: on its own connection, or through a gateway's. */
export interface HeldDevice extends DeviceRef {
  gateway?: string;
}

/**
 * Presence as per-node leases. A device's record is written when it connects and when it
 * leaves, and names the node that holds it; the node renews one lease (its heartbeat) per
 * interval, whatever the number of its devices. A device reads online while its record names a
 * node whose lease is younger than the TTL. If a node dies, its devices read offline within one
 * TTL, and `reapDeadNodes` (run by any live node) marks them offline and reports them so their
 * offline events are still published. If the records are lost (a Redis restart or flush, or the
 * node was reaped while it stalled), the node's next `renew` finds its lease new and writes its
 * devices again, once.
 */
export interface PresenceStore {
  /**
   * `gateway`: the gateway the device is attached to; none for a device connected itself.
   * Creates the node's lease if it has none yet, so a node that dies before its first renewal
   * is still reaped. A device the tenant has no record of, while it has its maximum
   * (`PresenceLimits`), is refused and nothing is written; a device it knows never is.
   */
  markOnline(device: HeldDevice, node: string, now: number): Promise<OnlineResult>;
  /**
   * Marks the device offline unless another node holds it by now; answers false when one does
   * (the device was taken over: it is not offline), true otherwise (also when no record names a
   * node: lost with Redis, or never written).
   */
  markOffline(device: DeviceRef, node: string, now: number): Promise<boolean>;
  /**
   * Renews the node's lease (one write, whatever the number of devices). `connections`: how many
   * connections the node holds, kept with its lease for its peers (`nodeLoads`); left out, the
   * node reports no load (a draining node, which takes no part in spreading connections).
   *
   * When this store instance had not renewed the lease before, or the lease vanished meanwhile
   * (lost with Redis, or reaped), the records of `devices` are written again, in bounded
   * batches, never overwriting a record another node wrote: `moved` are devices another node
   * holds by now (the caller lets go of them), `restored` those whose record had vanished or
   * read offline (the caller says the device is online again), `released` records naming the
   * node for devices it does not hold (marked offline). Otherwise all are empty and `devices` is
   * not read (pass a function to build the list only then).
   */
  renew(
    devices: HeldDevice[] | (() => HeldDevice[]),
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
   * The node the device's record names, whether its lease is alive or not (undefined: offline
   * or unknown). One read: what command routing needs, since a dead node's inbox has nobody
   * listening.
   */
  owner(device: DeviceRef): Promise<string | undefined>;
  /**
   * One page of the devices of the tenant the store knows (online now, or seen before; known
   * means it has a record, kept without a TTL), sorted by device id within the page. Paging
   * through with each page's `next` until there is none reaches every device known for the
   * whole listing; one may come twice (Redis answers a hash being resized so). Rejects with
   * `BUS_INVALID_CURSOR` for a cursor this store did not make.
   */
  listPage(tenant: string, now: number, query: PageQuery): Promise<DevicePage>;
  /**
   * Removes a device's record, so the tenant no longer knows it (and it no longer counts
   * against the tenant's limit): only while no node holds it (`held` otherwise, also while the
   * record names a dead node not reaped yet).
   */
  forget(device: DeviceRef): Promise<ForgetResult>;
  /**
   * Finds nodes whose lease is older than the TTL, claims each (one reaper per dead node), and
   * returns their devices that no live node took over (each with the dead node that held it),
   * marking them offline with the dead node's last heartbeat as their last-seen time.
   */
  reapDeadNodes(now: number): Promise<ReapedDevice[]>;
}

export interface PageQuery {
  /** About this many devices (Redis may answer somewhat more or fewer; none past the end). */
  limit: number;
  /** The `next` of the page before; none for the first. */
  cursor?: string;
}

export interface DevicePage {
  records: PresenceRecord[];
  /** Where the next page starts; absent on the last. */
  next?: string;
}

/** Records a lost-lease renewal writes per round trip: bounds one pipeline. */
export const RESTORE_BATCH = 500;

export function heldDevices(devices: HeldDevice[] | (() => HeldDevice[])): HeldDevice[] {
  return typeof devices === 'function' ? devices() : devices;
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
