import { canSpeakFor } from '@fleetwire/auth';
import { ErrorCode, ProtocolError } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { AbuseGuard } from './abuse-guard.js';
import type { CommandRouter } from './commands.js';
import type { Connection } from './connection.js';
import type { Outbound } from './outbound.js';
import type { PresenceTracker } from './presence-tracker.js';

/**
 * A gateway's sub-devices: each one it attaches is a device of its own to the rest of the
 * cluster (presence record and events, a command inbox, a subtree it publishes in), carried by
 * the gateway's connection. Detaching, or the gateway leaving, takes it offline; a node that dies
 * takes its gateways' sub-devices with it through the presence reaper, as any device.
 */
export class SubDevices {
  /**
   * Per gateway connection, each attached sub-device's attach: a refusal answered late undoes
   * only its own attach, not a newer one of the same device (detached and attached again
   * meanwhile).
   */
  private readonly attaches = new WeakMap<Connection, Map<string, object>>();

  constructor(
    private readonly commands: CommandRouter,
    private readonly presence: PresenceTracker,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly metrics: EdgeMetrics,
    private readonly maxPerGateway: number,
    /** An attach was answered, after its ack or refusal went out (`refused`: and it is current). */
    private readonly answered: (conn: Connection, device: string, refused: boolean) => void,
  ) {}

  /** Whether the connection's attach of the device is still unanswered. */
  pending(conn: Connection, device: string): boolean {
    return this.attaches.get(conn)?.has(device) ?? false;
  }

  attach(conn: Connection, device: string, id: string | undefined): void {
    const { session } = conn;
    const { identity } = session;
    if (identity.role !== 'gateway') {
      return this.refuse(conn, ErrorCode.NotAllowed, 'only gateways attach devices', id);
    }
    if (device === identity.subject || !canSpeakFor(identity, device)) {
      return this.refuse(
        conn,
        ErrorCode.SubDeviceForbidden,
        `this gateway's token does not name ${device}`,
        id,
      );
    }
    const attached = (session.subDevices ??= new Set());
    if (attached.has(device)) {
      if (id) this.outbound.send(conn, { type: 'ack', id });
      return;
    }
    if (attached.size >= this.maxPerGateway) {
      return this.refuse(
        conn,
        ErrorCode.SubDeviceNotAttached,
        `at most ${this.maxPerGateway} sub-devices per gateway connection`,
        id,
      );
    }
    attached.add(device);
    const attempt = {};
    let attempts = this.attaches.get(conn);
    if (!attempts) {
      attempts = new Map();
      this.attaches.set(conn, attempts);
    }
    attempts.set(device, attempt);
    this.metrics.subDevices.inc();
    this.commands.attachDevice(conn, device);
    const registered = this.presence.online({
      tenant: identity.tenant,
      deviceId: device,
      gateway: identity.subject,
    });
    // Acked once commands from any node reach the sub-device, as `welcome` is for a device.
    void registered.then((admitted) => {
      // Answered: whatever happens to the device now is not this attach's doing.
      const current = attempts.get(device) === attempt;
      if (current) attempts.delete(device);
      if (admitted) {
        if (id) this.outbound.send(conn, { type: 'ack', id });
        this.answered(conn, device, false);
        return;
      }
      // New to a tenant at its limit of devices: let go without an offline (never online),
      // unless it was detached meanwhile (and perhaps attached again: that attach is not this)
      // or taken over by another connection.
      if (current && conn.session.subDevices?.delete(device)) {
        this.metrics.subDevices.dec();
        this.commands.detachDevice(conn, device);
      }
      const text = `${device} is new to this tenant, which has its maximum of devices`;
      this.guard.refuse(conn, new ProtocolError(ErrorCode.DeviceLimit, text, id), false);
      // Not current: what waits for the device waits for a newer attach of it.
      this.answered(conn, device, current);
    });
  }

  detach(conn: Connection, device: string, id: string | undefined): void {
    if (!conn.session.subDevices?.has(device)) {
      return this.refuse(conn, ErrorCode.SubDeviceNotAttached, `${device} is not attached`, id);
    }
    this.leave(conn, device);
    if (id) this.outbound.send(conn, { type: 'ack', id });
  }

  /** The gateway's connection closed: every sub-device goes offline with it. */
  closed(conn: Connection): void {
    for (const device of [...(conn.session.subDevices ?? [])]) this.leave(conn, device);
  }

  /**
   * Who a device message speaks for: the sender, or (`device` given) an attached sub-device of
   * a gateway. Undefined when refused (the sender was answered).
   */
  speaker(
    conn: Connection,
    device: string | undefined,
    ref: string | undefined,
  ): string | undefined {
    const { identity } = conn.session;
    if (device === undefined || device === identity.subject) return identity.subject;
    if (conn.session.subDevices?.has(device)) return device;
    if (identity.role === 'gateway' && canSpeakFor(identity, device)) {
      this.refuse(conn, ErrorCode.SubDeviceNotAttached, `attach ${device} first`, ref);
    } else {
      this.refuse(conn, ErrorCode.SubDeviceForbidden, `may not speak for ${device}`, ref);
    }
    return undefined;
  }

  private leave(conn: Connection, device: string): void {
    const { identity } = conn.session;
    conn.session.subDevices?.delete(device);
    this.attaches.get(conn)?.delete(device);
    this.metrics.subDevices.dec();
    // Quiet when another connection took the device over meanwhile: it is not offline.
    if (this.commands.detachDevice(conn, device)) {
      this.presence.offline({
        tenant: identity.tenant,
        deviceId: device,
        gateway: identity.subject,
      });
    }
  }

  private refuse(conn: Connection, code: ErrorCode, text: string, ref: string | undefined): void {
    this.guard.refuse(conn, new ProtocolError(code, text, ref));
  }
}
