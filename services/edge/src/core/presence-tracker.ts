import {
  deviceRefKey,
  type DevicePage,
  type DeviceRef,
  type ForgetResult,
  type HeldDevice,
  type OnlineResult,
  type PageQuery,
  type PresenceRecord,
  type PresenceStore,
} from '@fleetwire/bus';
import { RepeatedLog } from '@fleetwire/metrics';
import type { Logger } from 'pino';

import type { CommandRouter } from './commands.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { Fanout } from './fanout.js';

/**
 * Online/offline for devices: events on `devices/<id>/presence` when they connect and leave,
 * and a presence record written at each (it names this node, which commands are routed to).
 * An event goes out once its record is written (or the write failed), so whoever hears it and
 * reads the record reads the same; a device's events keep the order of its writes.
 * At rest this node renews one lease per interval, whatever the number of its devices. When a
 * node dies without saying goodbye, its devices read offline within one TTL and a surviving node
 * publishes the offline events for it (`reapDeadNodes`). When the records were lost (Redis
 * restarted, or this node was reaped while it stalled), the renewal writes them again, once.
 */
export class PresenceTracker {
  private timer: NodeJS.Timeout | undefined;
  /** Since when renewals succeed without a break (since always, until one fails). */
  private healthySince: number | undefined = Number.NEGATIVE_INFINITY;
  /** Per device, its last record write not answered yet (see `inOrder`). */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** Devices refused at their tenant's limit: an operator must hear of it, once per interval. */
  private readonly refusals: RepeatedLog<DeviceRef>;

  constructor(
    private readonly store: PresenceStore,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly fanout: Fanout,
    private readonly commands: CommandRouter,
    private readonly failures: DependencyFailures,
    logger: Logger,
    /** This node's connections for its heartbeat; undefined while it takes no part (draining). */
    private readonly load: () => number | undefined = () => undefined,
  ) {
    this.refusals = new RepeatedLog(
      (count, last) =>
        logger.warn(
          { count, last },
          'devices refused: new to a tenant that has its maximum of devices (FLEETWIRE_MAX_DEVICES_PER_TENANT)',
        ),
      10_000,
    );
  }

  /** How often this node renews its lease (its heartbeat). */
  get heartbeatMs(): number {
    return heartbeatInterval(this.ttlMs);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.refusals.flush();
  }

  /**
   * A device connected, or a gateway attached it (`gateway`). Resolves once its record names
   * this node (commands from any node reach it from then on) and the node that held it before,
   * if another, was told to let go; never rejects. Resolves false when the device is new to a
   * tenant that has its maximum of devices: nothing was written or published, and the caller
   * lets go of it (without `offline`). A store that cannot be reached does not refuse.
   */
  online(device: HeldDevice): Promise<boolean> {
    const now = Date.now();
    const published = (): void =>
      this.publish(device.tenant, device.deviceId, true, now, device.gateway);
    return this.inOrder(device, () => this.store.markOnline(device, this.nodeId, now)).then(
      async (result) => {
        if (result.refused !== undefined) {
          this.refusals.hit({ tenant: device.tenant, deviceId: device.deviceId });
          return false;
        }
        published();
        if (result.previous !== undefined) await this.commands.takeOver(result.previous, device);
        return true;
      },
      (error: unknown) => {
        published();
        this.failed(error, 'markOnline');
        return true;
      },
    );
  }

  offline(device: HeldDevice): void {
    const now = Date.now();
    const ref = { tenant: device.tenant, deviceId: device.deviceId };
    const published = (): void =>
      this.publish(device.tenant, device.deviceId, false, now, device.gateway);
    // Left before its connect was answered, and that answer refused it: it was never online.
    const write = (before: unknown): Promise<boolean> =>
      isRefusal(before) ? Promise.resolve(false) : this.store.markOffline(ref, this.nodeId, now);
    this.inOrder(device, write).then(
      // False: another node took the device over, so it is not offline.
      (offline) => {
        if (offline) published();
      },
      (error: unknown) => {
        published();
        this.failed(error, 'markOffline');
      },
    );
  }

  /**
   * Resolves once every record write asked for so far is answered and its event published (the
   * events go out in callbacks registered before this one's).
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writing.values()]);
  }

  /**
   * A device's record writes reach the store one after the other: a device that connects and
   * leaves (or leaves and comes back) within a round trip must not end with the older state.
   * The client does not promise it across two commands: ioredis Cluster resends a command that
   * met a connection still opening 100 ms later, behind those sent after it.
   */
  private inOrder<T>(device: HeldDevice, write: (before: unknown) => Promise<T>): Promise<T> {
    const key = deviceRefKey(device);
    const before = this.writing.get(key);
    // `write` learns how the write before it ended (undefined: none waited, or it failed).
    const done = before ? before.then(write, () => write(undefined)) : write(undefined);
    this.writing.set(key, done);
    const settled = (): void => {
      if (this.writing.get(key) === done) this.writing.delete(key);
    };
    done.then(settled, settled);
    return done;
  }

  get(tenant: string, deviceId: string): Promise<PresenceRecord> {
    return this.store.get({ tenant, deviceId }, Date.now());
  }

  /** A page of the tenant's known devices, online or not (see `PresenceStore.listPage`). */
  listPage(tenant: string, query: PageQuery): Promise<DevicePage> {
    return this.store.listPage(tenant, Date.now(), query);
  }

  /** Removes an offline device's record (see `PresenceStore.forget`). */
  forget(tenant: string, deviceId: string): Promise<ForgetResult> {
    return this.store.forget({ tenant, deviceId });
  }

  /** Renews this node's lease and reaps dead nodes; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    try {
      let held: HeldDevice[] = [];
      // The list is built only when the lease was lost and the records are written again.
      const devices = (): HeldDevice[] => (held = this.commands.localDevices());
      const { moved, restored, released } = await this.store.renew(
        devices,
        this.nodeId,
        now,
        this.load(),
      );
      // A device that reconnected elsewhere before this node heard the takeover is let go here.
      for (const device of moved) this.commands.moved(device.tenant, device.deviceId);
      // A record that vanished (reaped during an outage, lost with Redis) is back: say so.
      const gateways = new Map(
        restored.length === 0 ? [] : held.map((d) => [deviceRefKey(d), d.gateway]),
      );
      for (const device of restored) {
        const gateway = gateways.get(deviceRefKey(device));
        this.publish(device.tenant, device.deviceId, true, now, gateway);
      }
      // Devices a predecessor process under this node id held when it died.
      for (const device of released) this.publish(device.tenant, device.deviceId, false, now);
      this.healthySince ??= now;
      // After this node could not reach the store, every other node's heartbeat looks stale
      // too: reap only once all of them had a full TTL to renew.
      if (now - this.healthySince >= this.ttlMs) {
        for (const device of await this.store.reapDeadNodes(now)) {
          this.publish(device.tenant, device.deviceId, false, now, undefined, device.node);
        }
      }
    } catch (error) {
      this.healthySince = undefined;
      this.failed(error, 'renew');
    }
  }

  /**
   * `node`: the node that holds the device (online), or held it (offline: this one, or a dead
   * one it reaps). Events of one device from two nodes can arrive out of order (each node
   * publishes after its own write); an offline naming a node other than the one the device is
   * online at is the older, which lets a subscriber ignore it.
   */
  private publish(
    tenant: string,
    deviceId: string,
    online: boolean,
    ts: number,
    gateway?: string,
    node = this.nodeId,
  ): void {
    const via = gateway === undefined ? {} : { gateway };
    this.fanout.publish(
      tenant,
      {
        type: 'message',
        kind: 'presence',
        topic: `devices/${deviceId}/presence`,
        from: deviceId,
        ts,
        data: { online, node, ...via },
      },
      performance.now(),
    );
  }

  private failed(error: unknown, operation: string): void {
    this.failures.failed('presence', operation, error);
  }
}

function isRefusal(result: unknown): boolean {
  return (result as OnlineResult | undefined)?.refused !== undefined;
}

/** Renewals come three times per TTL, so one missed renewal never lets a record expire. */
export function heartbeatInterval(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 3));
}
