import { Redis } from 'ioredis';

import {
  MAX_NODE_LOADS,
  byDeviceId,
  deviceRefKey,
  parseDeviceRef,
  parseConnections,
  type DeviceRef,
  type NodeLoad,
  type HeldDevice,
  type PresenceRecord,
  type PresenceStore,
  type RenewResult,
} from './presence.js';
import { REDIS_CONNECTION_DEFAULTS } from './redis-options.js';
import { escapeGlob } from './topic-glob.js';

export interface RedisPresenceOptions {
  url: string;
  prefix?: string;
  ttlMs: number;
}

/**
 * Renews one device's record for a node in one step, so a record another node wrote between a
 * read and a write is never overwritten. 0: renewed, 1: another node holds it, 2: restored.
 */
const RENEW = `
local current = redis.call('GET', KEYS[1])
local connectedAt = tonumber(ARGV[2])
if current then
  local record = cjson.decode(current)
  if record.node ~= ARGV[1] then return 1 end
  connectedAt = record.connectedAt
end
redis.call('SET', KEYS[1], cjson.encode({ node = ARGV[1], connectedAt = connectedAt }), 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
if ARGV[5] ~= '' then redis.call('SET', KEYS[4], ARGV[5]) end
if current then return 0 end
return 2`;

/** Deletes the presence record only if the given node still owns it. */
const RELEASE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).node == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[2], ARGV[2])
return 0`;

/**
 * Redis keys (under the prefix): `p:<tenant>/<device>` the online record with a TTL,
 * `ls:<tenant>/<device>` last seen, `gw:<tenant>/<device>` the gateway that last announced a
 * sub-device (no TTL, like last seen), `nodes` a sorted set of node heartbeats, `load` a hash of
 * each node's connection count at its last heartbeat, `nd:<node>` the devices a node holds,
 * `reap:<node>` the lock of whoever reaps a dead node.
 */
export class RedisPresence implements PresenceStore {
  private readonly prefix: string;

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisPresenceOptions,
  ) {
    this.prefix = options.prefix ?? 'fw:';
  }

  static async connect(options: RedisPresenceOptions): Promise<RedisPresence> {
    const redis = new Redis(options.url, {
      ...REDIS_CONNECTION_DEFAULTS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    redis.on('error', () => undefined);
    await redis.connect();
    return new RedisPresence(redis, options);
  }

  async markOnline(device: HeldDevice, node: string, now: number): Promise<void> {
    const key = deviceRefKey(device);
    const batch = this.redis.multi();
    if (device.gateway === undefined) batch.del(this.k(`gw:${key}`));
    else batch.set(this.k(`gw:${key}`), device.gateway);
    await batch
      .set(this.k(`p:${key}`), JSON.stringify({ node, connectedAt: now }), 'PX', this.options.ttlMs)
      .set(this.k(`ls:${key}`), String(now))
      .sadd(this.k(`nd:${node}`), key)
      .zadd(this.k('nodes'), now, node)
      .exec();
  }

  async markOffline(device: DeviceRef, node: string, now: number): Promise<void> {
    const key = deviceRefKey(device);
    await this.redis.srem(this.k(`nd:${node}`), key);
    await this.redis.eval(RELEASE, 2, this.k(`p:${key}`), this.k(`ls:${key}`), node, String(now));
  }

  async renew(
    devices: HeldDevice[],
    node: string,
    now: number,
    connections?: number,
  ): Promise<RenewResult> {
    const beat = this.redis.multi().zadd(this.k('nodes'), now, node);
    if (connections === undefined) beat.hdel(this.k('load'), node);
    else beat.hset(this.k('load'), node, String(connections));
    await beat.exec();
    const result: RenewResult = { moved: [], restored: [] };
    if (devices.length === 0) return result;
    const batch = this.redis.pipeline();
    for (const device of devices) {
      const key = deviceRefKey(device);
      batch.eval(
        RENEW,
        4,
        this.k(`p:${key}`),
        this.k(`ls:${key}`),
        this.k(`nd:${node}`),
        this.k(`gw:${key}`),
        node,
        String(now),
        String(this.options.ttlMs),
        key,
        device.gateway ?? '',
      );
    }
    const answers = (await batch.exec()) ?? [];
    answers.forEach(([error, outcome], i) => {
      if (error) throw error;
      const { tenant, deviceId } = devices[i] as HeldDevice;
      if (outcome === 1) result.moved.push({ tenant, deviceId });
      else if (outcome === 2) result.restored.push({ tenant, deviceId });
    });
    return result;
  }

  async get(device: DeviceRef): Promise<PresenceRecord> {
    const key = deviceRefKey(device);
    const [record, lastSeen, gateway] = await this.redis.mget(
      this.k(`p:${key}`),
      this.k(`ls:${key}`),
      this.k(`gw:${key}`),
    );
    return this.toRecord(device, record ?? null, lastSeen ?? null, gateway ?? null);
  }

  private toRecord(
    device: DeviceRef,
    record: string | null,
    lastSeen: string | null,
    gateway: string | null,
  ): PresenceRecord {
    const base = {
      tenant: device.tenant,
      deviceId: device.deviceId,
      ...(lastSeen ? { lastSeen: Number(lastSeen) } : {}),
      ...(gateway ? { gateway } : {}),
    };
    if (!record) return { ...base, online: false };
    const { node, connectedAt } = JSON.parse(record) as { node: string; connectedAt: number };
    return { ...base, online: true, node, connectedAt };
  }

  async list(tenant: string): Promise<PresenceRecord[]> {
    // SCAN, not KEYS: it does not block Redis while walking a large keyspace.
    const keys = new Set<string>();
    for (const kind of ['p:', 'ls:']) {
      const head = this.k(`${kind}${tenant}/`);
      const stream = this.redis.scanStream({ match: `${escapeGlob(head)}*`, count: 500 });
      for await (const batch of stream as AsyncIterable<string[]>) {
        for (const key of batch) keys.add(`${tenant}/${key.slice(head.length)}`);
      }
    }
    const refs = [...keys].map(parseDeviceRef).sort(byDeviceId);
    const records: PresenceRecord[] = [];
    // MGET in slices keeps each round trip bounded for tenants with many devices.
    for (let i = 0; i < refs.length; i += 500) {
      const slice = refs.slice(i, i + 500);
      const values = await this.redis.mget(
        slice.flatMap((ref) => [
          this.k(`p:${deviceRefKey(ref)}`),
          this.k(`ls:${deviceRefKey(ref)}`),
          this.k(`gw:${deviceRefKey(ref)}`),
        ]),
      );
      slice.forEach((ref, j) => {
        const [record, lastSeen, gateway] = values.slice(3 * j, 3 * j + 3);
        records.push(this.toRecord(ref, record ?? null, lastSeen ?? null, gateway ?? null));
      });
    }
    return records;
  }

  async nodeLoads(now: number): Promise<NodeLoad[]> {
    const beats = await this.redis.zrangebyscore(
      this.k('nodes'),
      `(${now - this.options.ttlMs}`,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      MAX_NODE_LOADS,
    );
    const nodes: { node: string; at: number }[] = [];
    for (let i = 0; i + 1 < beats.length; i += 2) {
      nodes.push({ node: beats[i] as string, at: Number(beats[i + 1]) });
    }
    if (nodes.length === 0) return [];
    const counts = await this.redis.hmget(this.k('load'), ...nodes.map(({ node }) => node));
    const loads: NodeLoad[] = [];
    nodes.forEach(({ node, at }, i) => {
      const connections = parseConnections(counts[i]);
      if (connections !== undefined) loads.push({ node, connections, at });
    });
    return loads.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async reapDeadNodes(now: number): Promise<DeviceRef[]> {
    const dead = await this.redis.zrangebyscore(this.k('nodes'), '-inf', now - this.options.ttlMs);
    const reaped: DeviceRef[] = [];
    for (const node of dead) {
      const claimed = await this.redis.set(
        this.k(`reap:${node}`),
        '1',
        'PX',
        this.options.ttlMs,
        'NX',
      );
      if (claimed !== 'OK') continue;
      // It may have renewed between the range read and the lock.
      const beat = await this.redis.zscore(this.k('nodes'), node);
      if (beat !== null && Number(beat) > now - this.options.ttlMs) continue;
      const keys = await this.redis.smembers(this.k(`nd:${node}`));
      for (const key of keys) {
        const record = await this.redis.get(this.k(`p:${key}`));
        if (record && (JSON.parse(record) as { node: string }).node !== node) continue;
        await this.redis
          .multi()
          .del(this.k(`p:${key}`))
          .exec();
        reaped.push(parseDeviceRef(key));
      }
      await this.redis
        .multi()
        .del(this.k(`nd:${node}`))
        .zrem(this.k('nodes'), node)
        .hdel(this.k('load'), node)
        .exec();
    }
    return reaped;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  private k(key: string): string {
    return `${this.prefix}${key}`;
  }
}
