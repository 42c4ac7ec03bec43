import { Cluster, type Redis, type RedisOptions } from 'ioredis';

/**
 * How long a command may wait for Redis's answer before its connection is taken for dead
 * (default 5 s). Without it a connection whose packets are dropped without a reset (a network
 * partition, a hung server) keeps its commands waiting for as long as the kernel retransmits,
 * ~15 minutes: presence writes, and the welcomes waiting on them, would hang, and the node would
 * go on reporting Redis up.
 */
export const REDIS_REPLY_TIMEOUT_MS = 5_000;

/**
 * What every Redis connection of the bus and presence drivers shares: connect explicitly,
 * reconnect for ever with capped exponential delays (100 ms doubling to 2 s), so a Redis restart
 * costs seconds, not a process restart; and a connection that sent a command and heard nothing
 * for `replyTimeoutMs` is closed (its commands fail, the reconnects begin), which is how a
 * silent connection is told from a slow one.
 */
export function redisConnectionOptions(
  replyTimeoutMs: number = REDIS_REPLY_TIMEOUT_MS,
): RedisOptions {
  return {
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
    socketTimeout: replyTimeoutMs,
  };
}

/**
 * ioredis 5 (up to 5.11.1, the newest 5.x) leaves a connection's reply timer running when the
 * connection closes; the timer then closes whatever connection replaced it, `replyTimeoutMs`
 * after the command that started it, although that one is healthy (a Redis restart under
 * traffic made the bus flap down again after it was back: ioredis issue #2147, fixed in 6.x).
 * Cleared on every close here.
 */
export function clearReplyTimersOnClose(client: Redis | Cluster): void {
  if (client instanceof Cluster) {
    // Each node connection of a Cluster has its own timer.
    client.on('+node', (node: Redis) => clearReplyTimersOnClose(node));
    return;
  }
  client.on('close', () => {
    const internals = client as unknown as { socketTimeoutTimer?: NodeJS.Timeout };
    clearTimeout(internals.socketTimeoutTimer);
    internals.socketTimeoutTimer = undefined;
  });
}

/**
 * The connections of a Cluster's sharded subscriber group (one per master holding channels of
 * ours). ioredis 5 keeps them internal: read through its fields, checked at each step, so a
 * different shape gives none (and the caller's pings stop) rather than an exception.
 */
export function shardedSubscriberConnections(cluster: Cluster): Redis[] {
  const group = (cluster as unknown as { shardedSubscribers?: { shardedSubscribers?: unknown } })
    .shardedSubscribers?.shardedSubscribers;
  if (!(group instanceof Map)) return [];
  const connections: Redis[] = [];
  for (const subscriber of group.values() as Iterable<{ getInstance?: () => Redis | null }>) {
    const connection = subscriber.getInstance?.();
    if (connection) connections.push(connection);
  }
  return connections;
}
