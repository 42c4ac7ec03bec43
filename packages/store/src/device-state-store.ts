import {
  applyStatePatch,
  emptyState,
  stateDocument,
  type DeviceStateDocument,
  type StateSection,
  type StateValues,
} from '@fleetwire/protocol';

import { toStoreError } from './errors.js';
import type { SqlClient } from './sql-client.js';

/**
 * Per-device state documents (desired / reported / delta), durable. The edge reads one when a
 * device connects and writes one for every `state.report`, `state.set` and HTTP PATCH.
 */
export interface DeviceStateStore {
  /** The device's document; version 0 and empty sections when it never had state. */
  get(tenant: string, deviceId: string): Promise<DeviceStateDocument>;
  /**
   * Applies a patch of `desired`. With `expectedVersion`, only if the document is still at that
   * version: otherwise throws StateVersionConflict and changes nothing.
   */
  setDesired(
    tenant: string,
    deviceId: string,
    patch: StateValues,
    options?: { expectedVersion?: number; now?: number },
  ): Promise<DeviceStateDocument>;
  /** Applies a patch of `reported` (the device's word is not versioned: it is what it has). */
  report(
    tenant: string,
    deviceId: string,
    patch: StateValues,
    options?: { now?: number },
  ): Promise<DeviceStateDocument>;
}

/** The document is no longer at the version the caller named. */
export class StateVersionConflict extends Error {
  override readonly name = 'StateVersionConflict';
  readonly code = 'state_version_conflict';
  constructor(
    readonly expected: number,
    readonly current: number,
  ) {
    super(`the state is at version ${current}, not ${expected}`);
  }
}

interface Row {
  version: number;
  desired: StateValues;
  desired_ts: Record<string, number>;
  reported: StateValues;
  reported_ts: Record<string, number>;
}

const SELECT = `select version, desired, desired_ts, reported, reported_ts from device_state
  where tenant = $1 and device_id = $2`;

function sections(row: Row): { desired: StateSection; reported: StateSection } {
  return {
    desired: { values: row.desired, updatedAt: row.desired_ts },
    reported: { values: row.reported, updatedAt: row.reported_ts },
  };
}

/**
 * The store on PostgreSQL or PGlite (the same SQL). A change runs in one transaction holding the
 * row's lock (`select … for update`), so two concurrent writers are serialised and the second
 * sees the first's version: of two PATCHes at the same version exactly one applies.
 */
export class SqlDeviceStateStore implements DeviceStateStore {
  constructor(private readonly client: SqlClient) {}

  async get(tenant: string, deviceId: string): Promise<DeviceStateDocument> {
    try {
      const { rows } = await this.client.query<Row>(SELECT, [tenant, deviceId]);
      const row = rows[0];
      if (!row) return emptyState(deviceId);
      const { desired, reported } = sections(row);
      return stateDocument(deviceId, row.version, desired, reported);
    } catch (error) {
      throw toStoreError(error, 'read device state');
    }
  }

  setDesired(
    tenant: string,
    deviceId: string,
    patch: StateValues,
    options: { expectedVersion?: number; now?: number } = {},
  ): Promise<DeviceStateDocument> {
    return this.change(tenant, deviceId, 'desired', patch, options);
  }

  report(
    tenant: string,
    deviceId: string,
    patch: StateValues,
    options: { now?: number } = {},
  ): Promise<DeviceStateDocument> {
    return this.change(tenant, deviceId, 'reported', patch, options);
  }

  private async change(
    tenant: string,
    deviceId: string,
    section: 'desired' | 'reported',
    patch: StateValues,
    options: { expectedVersion?: number; now?: number },
  ): Promise<DeviceStateDocument> {
    const now = options.now ?? Date.now();
    try {
      return await this.client.transaction(async (tx) => {
        await tx.query(
          'insert into device_state (tenant, device_id) values ($1, $2) on conflict do nothing',
          [tenant, deviceId],
        );
        const { rows } = await tx.query<Row>(`${SELECT} for update`, [tenant, deviceId]);
        const row = rows[0]!;
        if (options.expectedVersion !== undefined && options.expectedVersion !== row.version) {
          throw new StateVersionConflict(options.expectedVersion, row.version);
        }
        const current = sections(row);
        // Throws limit_exceeded (a ProtocolError) before anything is written.
        const next = applyStatePatch(current[section], patch, now);
        const version = row.version + 1;
        await tx.query(
          `update device_state set version = $3, ${section} = $4::jsonb, ${section}_ts = $5::jsonb,
             updated_at = now() where tenant = $1 and device_id = $2`,
          [tenant, deviceId, version, JSON.stringify(next.values), JSON.stringify(next.updatedAt)],
        );
        const after = { ...current, [section]: next };
        return stateDocument(deviceId, version, after.desired, after.reported);
      });
    } catch (error) {
      if (error instanceof StateVersionConflict) throw error;
      if (error instanceof Error && error.name === 'ProtocolError') throw error;
      throw toStoreError(error, `write device state (${section})`);
    }
  }
}
