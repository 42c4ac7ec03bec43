import { describe, expect, it } from 'vitest';

import { loadEmbeddedConfig } from './config.js';

const options = {
  dataDir: '/tmp/fleetwire-config-test',
  secret: 'x'.repeat(40),
  dashboardDir: undefined,
};

describe('loadEmbeddedConfig', () => {
  it('runs one thread whatever FLEETWIRE_WORKERS says, and warns that it is ignored', () => {
    const config = loadEmbeddedConfig({ FLEETWIRE_WORKERS: '4' }, options);
    expect(config.edge.workers).toBe(1);
    expect(config.ignored).toEqual(['FLEETWIRE_WORKERS']);
  });

  it('drops a Redis Cluster (its own bus and presence are in memory), and warns that it is ignored', () => {
    const config = loadEmbeddedConfig({ FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000' }, options);
    expect(config.edge).not.toHaveProperty('redisCluster');
    expect(config.ignored).toEqual(['FLEETWIRE_REDIS_CLUSTER_NODES']);
  });

  it('does not hold an ignored Redis Cluster to its rules (a prefix with hash tags)', () => {
    const env = { FLEETWIRE_REDIS_CLUSTER_NODES: 'r1:7000', FLEETWIRE_REDIS_PREFIX: 'a{b}:' };
    expect(loadEmbeddedConfig(env, options).ignored).toEqual(['FLEETWIRE_REDIS_CLUSTER_NODES']);
  });

  it('ignores nothing when no cluster variable is set', () => {
    expect(loadEmbeddedConfig({}, options).ignored).toEqual([]);
  });
});
