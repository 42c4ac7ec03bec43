import { ConfigError } from '@fleetwire/config';
import { describe, expect, it } from 'vitest';

import { loadIngestConfig } from './config.js';

describe('loadIngestConfig', () => {
  it('has defaults for everything but the database', () => {
    const config = loadIngestConfig(
      { FLEETWIRE_DATABASE_URL: 'postgres://db/x', FLEETWIRE_KAFKA_BROKERS: 'k1:9092, k2:9092' },
      'node-1',
    );
    expect(config.port).toBe(8090);
    expect(config.nodeId).toBe('node-1');
    expect(config.store).toEqual({
      databaseUrl: 'postgres://db/x',
      poolSize: 4,
      statementTimeoutMs: 15_000,
      retentionDays: 30,
      partitionsAheadDays: 3,
      maintenanceIntervalMs: 3_600_000,
    });
    expect(config.consumer).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topic: 'telemetry',
      dlqTopic: 'telemetry.dlq',
      groupId: 'fleetwire-ingest',
      batchMaxRows: 5000,
      batchMaxWaitMs: 200,
    });
    expect(config.api.inFlight).toEqual({ perToken: 8, perTenant: 16, total: 32 });
    expect(config.writeStuckAfterMs).toBe(30_000);
    expect(config.shutdownTimeoutMs).toBe(30_000);
  });

  it('has no consumer without brokers (enough for migrate)', () => {
    expect(
      loadIngestConfig({ FLEETWIRE_DATABASE_URL: 'pglite:memory' }, 'n').consumer,
    ).toBeUndefined();
  });

  it('lists every invalid variable', () => {
    let error: unknown;
    try {
      loadIngestConfig(
        {
          FLEETWIRE_DATABASE_URL: 'mysql://x',
          FLEETWIRE_BATCH_MAX_ROWS: '0',
          FLEETWIRE_PORT: 'http',
        },
        'n',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/FLEETWIRE_DATABASE_URL: must start with postgres/);
    expect(issues).toMatch(/FLEETWIRE_BATCH_MAX_ROWS/);
    expect(issues).toMatch(/FLEETWIRE_PORT/);
  });

  it('refuses in-flight bounds out of order (a smaller later one would be the one that acts)', () => {
    const load = (env: Record<string, string>) => () =>
      loadIngestConfig({ FLEETWIRE_DATABASE_URL: 'pglite:memory', ...env }, 'n');
    expect(load({ FLEETWIRE_API_MAX_IN_FLIGHT: '20' })).toThrow(
      /FLEETWIRE_API_MAX_IN_FLIGHT: must not exceed FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT \(16\)/,
    );
    expect(load({ FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT: '40' })).toThrow(
      /FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT: must not exceed FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL \(32\)/,
    );
    expect(
      load({
        FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL: '8',
        FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT: '8',
      })().api.inFlight,
    ).toEqual({
      perToken: 8,
      perTenant: 8,
      total: 8,
    });
  });
});
