import { describe, expect, it } from 'vitest';

import { loadEdgeConfig } from './config.js';

const base = { FLEETWIRE_JWT_HS256_SECRET: 'x'.repeat(32) };

describe('edge config: Redis Cluster for the bus', () => {
  it('takes the masters and interest-based publishing (on unless turned off)', () => {
    const config = loadEdgeConfig(
      {
        ...base,
        FLEETWIRE_REDIS_URL: 'redis://presence:6379',
        FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,r3:7002',
      },
      'n',
    );
    expect(config.redisCluster).toEqual({
      nodes: ['r1:7000', 'r2:7001', 'r3:7002'],
      interest: true,
      prefix: 'fw:',
      replyTimeoutMs: 5_000,
    });
    expect(config.redis).toEqual({
      url: 'redis://presence:6379',
      prefix: 'fw:',
      replyTimeoutMs: 5_000,
    });
    const off = loadEdgeConfig(
      {
        ...base,
        FLEETWIRE_REDIS_URL: 'redis://presence:6379',
        FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000',
        FLEETWIRE_REDIS_INTEREST: 'false',
      },
      'n',
    );
    expect(off.redisCluster?.interest).toBe(false);
    expect(loadEdgeConfig(base, 'n').redisCluster).toBeUndefined();
  });

  it('the cluster alone is a complete configuration: bus, presence and workers, with the prefix', () => {
    const config = loadEdgeConfig(
      {
        ...base,
        FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000,r2:7001',
        FLEETWIRE_REDIS_PREFIX: 'prod:',
        FLEETWIRE_WORKERS: '4',
      },
      'n',
    );
    expect(config.redis).toBeUndefined();
    expect(config.redisCluster).toEqual({
      nodes: ['r1:7000', 'r2:7001'],
      interest: true,
      prefix: 'prod:',
      replyTimeoutMs: 5_000,
    });
    expect(config.workers).toBe(4);
    expect(
      loadEdgeConfig({ ...base, FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000' }, 'n', { workers: 2 })
        .workers,
    ).toBe(2);
  });

  it('one reply timeout for every Redis connection, bus and presence alike', () => {
    const config = loadEdgeConfig(
      {
        ...base,
        FLEETWIRE_REDIS_URL: 'redis://presence:6379',
        FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000',
        FLEETWIRE_REDIS_REPLY_TIMEOUT_MS: '1500',
      },
      'n',
    );
    expect(config.redis?.replyTimeoutMs).toBe(1_500);
    expect(config.redisCluster?.replyTimeoutMs).toBe(1_500);
    expect(() => loadEdgeConfig({ ...base, FLEETWIRE_REDIS_REPLY_TIMEOUT_MS: '50' }, 'n')).toThrow(
      /FLEETWIRE_REDIS_REPLY_TIMEOUT_MS/,
    );
  });

  it.each([
    [{ FLEETWIRE_WORKERS: '2' }, /needs FLEETWIRE_REDIS_URL or FLEETWIRE_REDIS_CLUSTER_NODES/],
    [{ FLEETWIRE_REDIS_URL: 'redis://p:6379', FLEETWIRE_REDIS_CLUSTER_NODES: 'r1' }, /host:port/],
    [
      {
        FLEETWIRE_REDIS_URL: 'redis://p:6379',
        FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000',
        FLEETWIRE_REDIS_PREFIX: 'fw{x}:',
      },
      /must not contain \{ or \}/,
    ],
  ])('rejects %j', (env, message) => {
    expect(() => loadEdgeConfig({ ...base, ...env }, 'n')).toThrow(message);
  });
});
