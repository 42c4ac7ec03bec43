import type { ClusterNode } from 'ioredis';

/** `host:port` startup addresses (as FLEETWIRE_REDIS_CLUSTER_NODES lists them) as ioredis nodes. */
export function clusterNodes(addresses: readonly string[]): ClusterNode[] {
  return addresses.map((address) => {
    const colon = address.lastIndexOf(':');
    return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
  });
}
