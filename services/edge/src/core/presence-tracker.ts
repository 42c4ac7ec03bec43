import {
  deviceRefKey,
  type HeldDevice,
  type PresenceRecord,
  type PresenceStore,
} from '@fleetwire/bus';

import type { CommandRouter } from './commands.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { Fanout } from './fanout.js';

/**
 * Online/offline for devices: events on `devices/<id>/presence` when they connect and leave,
 * and a presence record this node keeps alive while it holds the device. When a node dies
 * without saying goodbye, its records expire within one TTL and a surviving node publishes the
 * offline events for it (`reapDeadNodes`).
 */
export class PresenceTracker {
  private timer: NodeJS.Timeout | undefined;
  /** Since when renewals succeed without a break (since always, until one fails). */
  private healthySince: number | undefined = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: PresenceStore,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly fanout: Fanout,
    private readonly commands: CommandRouter,
    private readonly failures: DependencyFailures,
    /** This node's connections for its heartbeat; undefined while it takes no part (draining). */
    private readonly load: () => number | undefined = () => undefined,
  ) {}

  /** How often this node renews its records and heartbeat. */
  get heartbeatMs(): number {
    return heartbeatInterval(this.ttlMs);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A device connected, or a gateway attached it (`gateway`). */
  online(device: HeldDevice): void {
    const now = Date.now();
    this.publish(device.tenant, device.deviceId, true, now, device.gateway);
    this.store
      .markOnline(device, this.nodeId, now)
      .catch((error: unknown) => this.failed(error, 'markOnline'));
  }

  offline(device: HeldDevice): void {
    const now = Date.now();
    this.publish(device.tenant, device.deviceId, false, now, device.gateway);
    this.store
      .markOffline({ tenant: device.tenant, deviceId: device.deviceId }, this.nodeId, now)
      .catch((error: unknown) => this.failed(error, 'markOffline'));
  }

  get(tenant: string, deviceId: string): Promise<PresenceRecord> {
    return this.store.get({ tenant, deviceId }, Date.now());
  }

  /** The tenant's known devices, online or not, sorted by id. */
  list(tenant: string): Promise<PresenceRecord[]> {
    return this.store.list(tenant, Date.now());
  }

  /** Renews this node's records and reaps dead nodes; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    try {
      const held = this.commands.localDevices();
      const { moved, restored } = await this.store.renew(held, this.nodeId, now, this.load());
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
      this.healthySince ??= now;
      // After this node could not reach the store, every other node's heartbeat looks stale
      // too: reap only once all of them had a full TTL to renew.
      if (now - this.healthySince >= this.ttlMs) {
        for (const device of await this.store.reapDeadNodes(now)) {
          this.publish(device.tenant, device.deviceId, false, now);
        }
      }
    } catch (error) {
      this.healthySince = undefined;
      this.failed(error, 'renew');
    }
  }

  private publish(
    tenant: string,
    deviceId: string,
    online: boolean,
    ts: number,
    gateway?: string,
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
        data: online ? { online, node: this.nodeId, ...via } : { online, ...via },
      },
      performance.now(),
    );
  }

  private failed(error: unknown, operation: string): void {
    this.failures.failed('presence', operation, error);
  }
}

/** Renewals come three times per TTL, so one missed renewal never lets a record expire. */
export function heartbeatInterval(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 3));
}
