import type { Redis } from 'ioredis';

/**
 * Pattern subscriptions held at Redis by the bus connections of one test's nodes (named
 * `fleetwire-bus:<prefix>…`): other suites share the server, so only these are counted.
 */
export async function brokerPatternCount(probe: Redis, prefix: string): Promise<number> {
  const list = String(await probe.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((line) => line.includes(` name=fleetwire-bus:${prefix}`))
    .reduce((sum, line) => sum + Number(/ psub=(\d+)/.exec(line)?.[1] ?? 0), 0);
}
