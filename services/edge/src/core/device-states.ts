import { canSpeakFor, coversDevice, isDeviceRole, type Identity } from '@fleetwire/auth';
import { deviceRefKey } from '@fleetwire/bus';
import {
  ErrorCode,
  NackReason,
  ProtocolError,
  type ClientMessage,
  type DeviceStateDocument,
  type StateMessage,
  type StateValues,
} from '@fleetwire/protocol';
import { StateVersionConflict, type DeviceStateStore } from '@fleetwire/store';

import type { EdgeMetrics } from '../metrics.js';
import type { AbuseGuard } from './abuse-guard.js';
import type { CommandRouter } from './commands.js';
import type { Connection } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { Fanout } from './fanout.js';
import type { Outbound } from './outbound.js';

type StateReport = Extract<ClientMessage, { type: 'state.report' }>;
type StateSet = Extract<ClientMessage, { type: 'state.set' }>;
type StateGet = Extract<ClientMessage, { type: 'state.get' }>;

/** Why a state request was refused: the caller's transport answers it in its own terms. */
export class StateAccessError extends Error {
  override readonly name = 'StateAccessError';
  constructor(
    readonly code: 'forbidden' | 'role_not_allowed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A tenant's line of state operations on this node is full: refused before it reaches the
 * database (retry later).
 */
export class StateBusyError extends Error {
  override readonly name = 'StateBusyError';
}

/**
 * State operations of one tenant that run against the database at once on a node, and how many
 * more wait their turn; past both, refused. Its devices' reports and its dashboards' and services'
 * requests have a line each. A token with many sockets, each under its rate limit, kept the
 * database pool's queue full for everyone before (a narrowed dashboard at 7,400 state.set/s made
 * another tenant's reads take 1.3 s).
 */
export const MAX_STATE_RUNNING_PER_TENANT = 32;
export const MAX_STATE_WAITING_PER_TENANT = 1024;

/** One tenant's line: operations running, and those waiting to (their go-ahead). */
interface StateLine {
  running: number;
  waiting: (() => void)[];
}

const PROBE_EVERY_MS = 2_000;
/** A read of a document no tenant can have (tenants start with a letter or digit). */
const PROBE = { tenant: '-probe', deviceId: '-probe' };

/** The topic on which subscribers see a device's state document change. */
export function stateTopic(deviceId: string): string {
  return `devices/${deviceId}/state`;
}

/**
 * Device state (desired / reported / delta), wherever its parties are connected. The document
 * lives in the store (PostgreSQL, PGlite embedded); every edge reads and writes it there, so no
 * node holds state another needs. A change is published on `devices/<id>/state` (subscribers on
 * every node) and, when `desired` changed, sent to the device: directly when this node holds it,
 * else to the node its presence record names. A device that is offline gets the delta when it
 * connects.
 * Each connection remembers the version it was sent last, so a change that raced the read on
 * connect is never sent twice or rolled back.
 */
export class DeviceStates {
  /** What the last store operation said about the database (readiness does not follow it). */
  private storeFailure: string | undefined;
  private lastProbe = -Infinity;
  /** Per tenant and kind (device reports, others), the operations its clients asked for. */
  private readonly lines = new Map<string, StateLine>();

  constructor(
    private readonly store: DeviceStateStore,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly fanout: Fanout,
    private readonly commands: CommandRouter,
    private readonly metrics: EdgeMetrics,
    private readonly failures: DependencyFailures,
  ) {
    commands.onDeviceState((device, state) => this.toConnection(device, state));
  }

  /** The state database as the last operation found it: /health and fleetwire_dependency_up. */
  health(): { up: boolean; reason?: string } {
    if (this.storeFailure === undefined) return { up: true };
    // Down stays down only until an answer: without traffic, a read at most every 2 s (on the
    // scrape or /health that asks) finds out that it is back.
    const now = performance.now();
    if (now - this.lastProbe >= PROBE_EVERY_MS) {
      this.lastProbe = now;
      this.observed(this.store.get(PROBE.tenant, PROBE.deviceId)).catch(() => undefined);
    }
    return { up: false, reason: `device state store: ${this.storeFailure}` };
  }

  /** A device is registered (reachable from every node): send it what it should change. */
  connected(conn: Connection): void {
    const { identity } = conn.session;
    this.observed(this.store.get(identity.tenant, identity.subject)).then(
      (doc) => {
        if (Object.keys(doc.delta).length > 0) this.toConnection(conn, doc);
      },
      (error: unknown) => this.failures.failed('store', 'read device state', error),
    );
  }

  /**
   * Notes whether the database answered: any answer (a conflict, a refused patch included) means
   * it is up; an unexpected failure means it is not, until the next answer.
   */
  private observed<T>(work: Promise<T>): Promise<T> {
    return work.then(
      (result) => {
        this.storeFailure = undefined;
        return result;
      },
      (error: unknown) => {
        const answered =
          error instanceof StateVersionConflict ||
          error instanceof ProtocolError ||
          error instanceof StateAccessError;
        if (answered) this.storeFailure = undefined;
        else this.storeFailure = (error as Error)?.message ?? String(error);
        throw error;
      },
    );
  }

  /** `state.report` from a device: its own document only. */
  report(conn: Connection, message: StateReport): void {
    const { identity } = conn.session;
    this.bounded(identity, () =>
      this.observed(this.store.report(identity.tenant, identity.subject, message.reported)),
    ).then(
      (doc) => {
        this.metrics.stateChanges.inc({ section: 'reported' });
        if (message.id) this.outbound.send(conn, { type: 'ack', id: message.id });
        this.publish(identity.tenant, identity.subject, doc);
      },
      (error: unknown) => this.refused(conn, message.id, error),
    );
  }

  /** `state.set` from a dashboard or service. */
  set(conn: Connection, message: StateSet): void {
    this.setDesired(conn.session.identity, message.target, message.desired, message.version).then(
      (doc) => {
        if (message.id) this.outbound.send(conn, { type: 'ack', id: message.id, result: doc });
      },
      (error: unknown) => this.refused(conn, message.id, error),
    );
  }

  /** `state.get` from a dashboard or service: the document in the ack's result. */
  get(conn: Connection, message: StateGet): void {
    this.read(conn.session.identity, message.target).then(
      (doc) => this.outbound.send(conn, { type: 'ack', id: message.id, result: doc }),
      (error: unknown) => this.refused(conn, message.id, error),
    );
  }

  /**
   * The document, if `identity` may see it: its own (a device's, a gateway's, or a sub-device's
   * its gateway speaks for), or a device its ACL covers.
   */
  async read(identity: Identity, deviceId: string): Promise<DeviceStateDocument> {
    const own =
      isDeviceRole(identity) && (identity.subject === deviceId || canSpeakFor(identity, deviceId));
    if (!own) this.mayManage(identity, deviceId, 'read');
    return this.bounded(identity, () => this.observed(this.store.get(identity.tenant, deviceId)));
  }

  /**
   * Runs a client's operation in its tenant's line (`device`: a device's own report), at once or
   * once a running one is done; StateBusyError when the line is full.
   */
  private async bounded<T>(identity: Identity, operation: () => Promise<T>): Promise<T> {
    const key = `${isDeviceRole(identity) ? 'device' : 'manage'}/${identity.tenant}`;
    let line = this.lines.get(key);
    if (!line) {
      line = { running: 0, waiting: [] };
      this.lines.set(key, line);
    }
    if (line.running < MAX_STATE_RUNNING_PER_TENANT) line.running += 1;
    else if (line.waiting.length < MAX_STATE_WAITING_PER_TENANT) {
      const queue = line.waiting;
      await new Promise<void>((go) => queue.push(go));
    } else {
      this.metrics.stateBusy.inc();
      throw new StateBusyError(
        `this tenant has ${MAX_STATE_RUNNING_PER_TENANT + MAX_STATE_WAITING_PER_TENANT} state operations under way here; retry`,
      );
    }
    try {
      return await operation();
    } finally {
      // The place passes to the next in line, or is given back.
      const next = line.waiting.shift();
      if (next) next();
      else if (--line.running === 0) this.lines.delete(key);
    }
  }

  /**
   * Applies a patch of `desired` for a dashboard or service (WebSocket and HTTP alike) and sends
   * the change on. Throws StateAccessError, StateVersionConflict, ProtocolError (bad_message,
   * limit_exceeded) or the store's error.
   */
  async setDesired(
    identity: Identity,
    deviceId: string,
    patch: StateValues,
    expectedVersion: number | undefined,
  ): Promise<DeviceStateDocument> {
    this.mayManage(identity, deviceId, 'set');
    const doc = await this.bounded(identity, () =>
      this.observed(
        this.store.setDesired(identity.tenant, deviceId, patch, {
          ...(expectedVersion === undefined ? {} : { expectedVersion }),
        }),
      ),
    );
    this.metrics.stateChanges.inc({ section: 'desired' });
    this.publish(identity.tenant, identity.subject, doc);
    this.toDevice(identity.tenant, doc);
    return doc;
  }

  /** Commands and state share one rule: dashboards and services, on devices their ACL covers. */
  private mayManage(identity: Identity, deviceId: string, what: string): void {
    if (!identity.command) {
      throw new StateAccessError(
        'role_not_allowed',
        `role ${identity.role} may not ${what} device state`,
      );
    }
    if (!coversDevice(identity, deviceId)) {
      throw new StateAccessError('forbidden', `this token does not cover ${deviceId}`);
    }
  }

  private publish(tenant: string, from: string, doc: DeviceStateDocument): void {
    this.fanout.publish(
      tenant,
      {
        type: 'message',
        kind: 'state',
        topic: stateTopic(doc.deviceId),
        from,
        ts: Date.now(),
        data: doc,
      },
      performance.now(),
    );
  }

  private toDevice(tenant: string, doc: DeviceStateDocument): void {
    const key = deviceRefKey({ tenant, deviceId: doc.deviceId });
    const held = this.commands.localDevice(key);
    if (held) {
      this.toConnection(held, doc);
      return;
    }
    this.commands.relayState(key, {
      type: 'state',
      version: doc.version,
      desired: doc.desired,
      delta: doc.delta,
    });
  }

  private toConnection(
    conn: Connection,
    state: Pick<StateMessage, 'version' | 'desired' | 'delta'>,
  ): void {
    const { session } = conn;
    if ((session.stateVersion ?? -1) >= state.version) return;
    session.stateVersion = state.version;
    this.outbound.send(conn, {
      type: 'state',
      version: state.version,
      desired: state.desired,
      delta: state.delta,
    });
  }

  private refused(conn: Connection, ref: string | undefined, error: unknown): void {
    if (error instanceof ProtocolError) {
      this.guard.refuse(conn, new ProtocolError(error.code, error.message, ref));
      return;
    }
    if (error instanceof StateAccessError) {
      const code = error.code === 'forbidden' ? ErrorCode.Forbidden : ErrorCode.NotAllowed;
      this.guard.refuse(conn, new ProtocolError(code, error.message, ref));
      return;
    }
    if (error instanceof StateVersionConflict) {
      this.metrics.stateConflicts.inc();
      if (ref) {
        this.outbound.send(conn, {
          type: 'nack',
          id: ref,
          reason: NackReason.Conflict,
          message: error.message,
        });
      }
      return;
    }
    if (error instanceof StateBusyError) {
      // Without an id there is no nack to send: told as a dropped message is, not counted.
      if (ref) {
        this.outbound.send(conn, {
          type: 'nack',
          id: ref,
          reason: NackReason.Retry,
          message: error.message,
        });
      } else
        this.guard.refuse(conn, new ProtocolError(ErrorCode.RateLimited, error.message), false);
      return;
    }
    this.failures.failed('store', 'device state', error);
    if (ref) {
      this.outbound.send(conn, {
        type: 'nack',
        id: ref,
        reason: NackReason.Retry,
        message: 'the device state store is unavailable',
      });
    }
  }
}
