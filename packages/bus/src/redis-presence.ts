import { randomBytes } from 'node:crypto';

import { Cluster, Redis, type ClusterNode } from 'ioredis';

import { BusError } from './bus.js';
import { MasterRestarts } from './master-restarts.js';
import { TickBatches } from './tick-batches.js';
import { decodeScanCursor, encodeScanCursor } from './presence-cursor.js';
import { LUA_RECORD, decodeRecord, type StoredRecord } from './presence-record.js';
import {
  DEFAULT_MAX_DEVICES_PER_TENANT,
  MAX_NODE_LOADS,
  RESTORE_BATCH,
  byDeviceId,
  deviceRefKey,
  heldDevices,
  parseConnections,
  parseDeviceRef,
  type DevicePage,
  type DeviceRef,
  type ForgetResult,
  type HeldDevice,
  type NodeLoad,
  type OnlineResult,
  type PageQuery,
  type PresenceLimits,
  type PresenceRecord,
  type PresenceStore,
  type ReapedDevice,
  type RenewResult,
} from './presence.js';
import {
  REDIS_REPLY_TIMEOUT_MS,
  clearReplyTimersOnClose,
  redisConnectionOptions,
} from './redis-options.js';

/** One Redis (`url`) or a Redis Cluster (`nodes`: some of its masters, the rest is discovered). */
export type RedisPresenceOptions = ({ url: string } | { nodes: ClusterNode[] }) &
  PresenceLimits & {
    prefix?: string;
    ttlMs: number;
    /** A connection silent this long with a command waiting is closed (`redisConnectionOptions`). */
    replyTimeoutMs?: number;
  };

const RETRY = (attempt: number): number => Math.min(100 * 2 ** attempt, 2_000);

/** Node names per ZMSCORE when `list` reads the leases of the nodes its records name. */
const LEASE_READ_BATCH = 1_000;

/** Devices one run of a record script writes at most: Redis runs nothing else meanwhile. */
const RECORD_WRITE_BATCH = 500;

/** One device's record written for a node, at a time. */
interface RecordWrite {
  device: HeldDevice;
  node: string;
  now: number;
}

/** The records of one tenant written for one node go together (the key says both, unambiguously). */
function recordWriteKey({ device, node }: RecordWrite): string {
  return `${node.length}:${node}${device.tenant}`;
}

/**
 * The scripts, each on the keys of one hash slot (Redis Cluster runs a script on one slot only):
 * a device record script on its tenant's hash, the lease script on the `{nodes}` keys.
 */
const SCRIPTS = {
  /**
   * Writes the records of devices (ARGV[3..]: id, time, gateway each) for node ARGV[1]; answers
   * per device the node its record named before ('' for none), or 0 when the device is new and
   * the tenant has ARGV[2] records already (nothing written).
   */
  presenceOnline: `${LUA_RECORD}
local previous = {}
local max = tonumber(ARGV[2])
for i = 3, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current and redis.call('HLEN', KEYS[1]) >= max then
    previous[#previous + 1] = 0
  else
    previous[#previous + 1] = node_of(current)
    redis.call('HSET', KEYS[1], ARGV[i], encode(ARGV[i + 1], ARGV[1], ARGV[i + 2]))
  end
end
return previous`,
  /** Removes device ARGV[1]'s record unless it names a node: 1 removed, 0 held, 2 none. */
  presenceForget: `${LUA_RECORD}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 2 end
if node_of(current) ~= '' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`,
  /**
   * Offline (a disconnect, or a reap) the devices (ARGV[2..]: id, time each) whose records still
   * name node ARGV[1]; answers per device 1 released, 0 not (another node holds it), 2 nothing
   * to release (no record, or it names no node: lost with Redis, or never written).
   */
  presenceRelease: `${LUA_RECORD}
local released = {}
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local holder = node_of(current)
  if holder == ARGV[1] then
    redis.call('HSET', KEYS[1], ARGV[i], encode(ARGV[i + 1], '', gateway_of(current)))
    released[#released + 1] = 1
  elseif holder == '' then
    released[#released + 1] = 2
  else
    released[#released + 1] = 0
  end
end
return released`,
  /** A held device's record written again: 0 it was there, 1 another node holds it, 2 restored. */
  presenceRestore: `${LUA_RECORD}
local holder = node_of(redis.call('HGET', KEYS[1], ARGV[1]))
if holder == ARGV[3] then return 0 end
if holder ~= '' then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], encode(ARGV[2], ARGV[3], ARGV[4]))
return 2`,
  /**
   * The lease: heartbeat and load, and whether this store instance (ARGV[4]) renewed it before.
   * 1: it did not, or the lease was lost since (Redis restarted, or a reaper took the node).
   */
  presenceRenew: `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[1])
else redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[4] then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Client = Redis | Cluster;
type Scripts = Record<ScriptName, (...args: string[]) => Promise<unknown>>;

/**
 * Redis keys (under the prefix), each tagged with its hash slot's name:
 *
 * - `{t:<tenant>}:d` a hash per tenant: device id → record (presence-record.ts), no TTL;
 * - `{n:<node>}:d` a set per node: the `tenant/device` keys it wrote online (for the reaper);
 * - `{nodes}:beat` a sorted set of node leases (last heartbeat), `{nodes}:load` each node's
 *   connection count, `{nodes}:epoch` which store instance last renewed each lease,
 *   `{nodes}:reap:<node>` the lock of whoever reaps a dead node.
 *
 * Every command and script touches one slot, so one driver serves one Redis and a Redis Cluster.
 * Work across slots (a device's record and its node's set; the batches of a rewrite or a reap)
 * goes out as single commands in one tick, which auto-pipelining writes together per server: one
 * round trip per master, not per command, and no pipeline object a cluster would refuse across
 * slots. A connect writes its tenant's hash and its node's set (not atomic: the reaper checks the
 * record before it marks a device offline); a renewal writes only the `{nodes}` slot.
 */
export class RedisPresence implements PresenceStore {
  private readonly prefix: string;
  /** Changes per instance: a lease renewed by another instance (or none) was lost meanwhile. */
  private readonly epoch = randomBytes(6).toString('base64url');
  /** Nodes whose lease this instance made sure exists, so a connect needs no lease write. */
  private readonly leased = new Set<string>();
  /**
   * Nodes whose records are to be written again at their next renewal: their lease was lost, a
   * master restarted, or the last rewrite failed half-way (the lease alone would not say so again).
   */
  private readonly owed = new Set<string>();
  /**
   * A turn's record writes and node-set changes leave together, per tenant and per node: a
   * connect storm costs a script run per tenant and turn, not per device.
   */
  private readonly onlineWrites = new TickBatches<RecordWrite, string | 0>(
    (_, writes) => this.writeOnline(writes),
    RECORD_WRITE_BATCH,
  );
  private readonly offlineWrites = new TickBatches<RecordWrite, number>(
    (_, writes) => this.writeOffline(writes),
    RECORD_WRITE_BATCH,
  );
  private readonly setAdds = new TickBatches<string, void>(
    (key, members) => this.redis.sadd(key, ...members).then(() => members.map(() => undefined)),
    RECORD_WRITE_BATCH,
  );
  private readonly setRemoves = new TickBatches<string, void>(
    (key, members) => this.redis.srem(key, ...members).then(() => members.map(() => undefined)),
    RECORD_WRITE_BATCH,
  );

  private constructor(
    private readonly redis: Client,
    private readonly options: RedisPresenceOptions,
    /** On a cluster: a master restarted without its keys while the lease's master kept them. */
    private readonly restarts: MasterRestarts | undefined,
  ) {
    this.prefix = options.prefix ?? 'fw:';
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: name === 'presenceRenew' ? 3 : 1, lua });
    }
  }

  static async connect(options: RedisPresenceOptions): Promise<RedisPresence> {
    // Commands fail at once while a server is away (the caller counts and retries them) instead
    // of queueing; auto-pipelining sends a tick's commands (a connect storm's records) to each
    // server in one write.
    const replyTimeoutMs = options.replyTimeoutMs ?? REDIS_REPLY_TIMEOUT_MS;
    const redis: Client =
      'nodes' in options
        ? new Cluster(options.nodes, {
            lazyConnect: true,
            enableAutoPipelining: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: RETRY,
            clusterNodeRetryStrategy: RETRY,
            slotsRefreshTimeout: 2_000,
            redisOptions: { maxRetriesPerRequest: 0, socketTimeout: replyTimeoutMs },
          })
        : new Redis(options.url, {
            ...redisConnectionOptions(replyTimeoutMs),
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            enableAutoPipelining: true,
          });
    clearReplyTimersOnClose(redis);
    redis.on('error', () => undefined);
    redis.on('node error', () => undefined);
    try {
      await redis.connect();
    } catch (cause) {
      redis.disconnect();
      const where =
        'nodes' in options
          ? `Redis Cluster at ${options.nodes.map((n) => (typeof n === 'object' ? `${n.host}:${n.port}` : n)).join(',')}`
          : 'Redis';
      throw new BusError('BUS_UNAVAILABLE', `presence: cannot connect to ${where}`, { cause });
    }
    return new RedisPresence(
      redis,
      options,
      redis instanceof Cluster ? new MasterRestarts(redis) : undefined,
    );
  }

  async markOnline(device: HeldDevice, node: string, now: number): Promise<OnlineResult> {
    return this.typed('markOnline', async () => {
      const write = { device, node, now };
      const writes: Promise<unknown>[] = [
        this.onlineWrites.add(recordWriteKey(write), write),
        this.setAdds.add(this.nodeKey(node), deviceRefKey(device)),
      ];
      const ensureLease = !this.leased.has(node);
      if (ensureLease) writes.push(this.redis.zadd(this.k('{nodes}:beat'), 'NX', now, node));
      const [previous] = await Promise.all(writes);
      if (ensureLease) this.leased.add(node);
      if (previous === 0) {
        // Nothing was written: the node's set must not name it either, before the caller (who
        // writes this device's records in order) may add it again. Should that fail, the set
        // names a device without a record, which the reaper and renewals pass over.
        await this.setRemoves.add(this.nodeKey(node), deviceRefKey(device)).catch(() => undefined);
        return { refused: 'device_limit' };
      }
      return previous === '' || previous === node ? {} : { previous: String(previous) };
    });
  }

  async markOffline(device: DeviceRef, node: string, now: number): Promise<boolean> {
    return this.typed('markOffline', async () => {
      const [released] = await Promise.all([
        this.release(device, node, now),
        this.setRemoves.add(this.nodeKey(node), deviceRefKey(device)),
      ]);
      return released !== 0;
    });
  }

  /** 1 when the record named `node` and now says offline, 0 another node holds it, 2 none did. */
  private release(device: DeviceRef, node: string, now: number): Promise<number> {
    const write = { device, node, now };
    return this.offlineWrites.add(recordWriteKey(write), write);
  }

  private writeOnline(writes: RecordWrite[]): Promise<(string | 0)[]> {
    const args = [(writes[0] as RecordWrite).node, String(this.maxDevicesPerTenant)];
    for (const { device, now } of writes) {
      args.push(device.deviceId, String(now), device.gateway ?? '');
    }
    const key = this.tenantKey((writes[0] as RecordWrite).device.tenant);
    return this.scripts.presenceOnline(key, ...args) as Promise<(string | 0)[]>;
  }

  private writeOffline(writes: RecordWrite[]): Promise<number[]> {
    const args = [(writes[0] as RecordWrite).node];
    for (const { device, now } of writes) args.push(device.deviceId, String(now));
    const key = this.tenantKey((writes[0] as RecordWrite).device.tenant);
    return this.scripts.presenceRelease(key, ...args) as Promise<number[]>;
  }

  async renew(
    devices: HeldDevice[] | (() => HeldDevice[]),
    node: string,
    now: number,
    connections?: number,
  ): Promise<RenewResult> {
    return this.typed('renew', async () => {
      this.sendWaitingWrites();
      // A restarted master may have held any node's records: every node this instance serves
      // owes them, noted as soon as it is seen (the check remembers the new run id, so a renewal
      // failing beside it must not lose the news).
      const restartChecked = (this.restarts?.restarted() ?? Promise.resolve(false)).then(
        (restarted) => {
          if (restarted) for (const served of [...this.leased, node]) this.owed.add(served);
        },
      );
      const [lost] = await Promise.all([
        this.scripts.presenceRenew(
          this.k('{nodes}:beat'),
          this.k('{nodes}:load'),
          this.k('{nodes}:epoch'),
          node,
          String(now),
          connections === undefined ? '' : String(connections),
          this.epoch,
        ),
        restartChecked,
      ]);
      this.leased.add(node);
      if (lost === 1) this.owed.add(node);
      const result: RenewResult = { moved: [], restored: [], released: [] };
      if (!this.owed.has(node)) return result;
      const held = heldDevices(devices);
      await this.releaseUnheld(node, new Set(held.map(deviceRefKey)), now, result.released);
      // The one O(devices) write: in slices, one round trip each, so Redis is never held long.
      for (let i = 0; i < held.length; i += RESTORE_BATCH) {
        const slice = held.slice(i, i + RESTORE_BATCH);
        // After an await: a connect of this turn must reach Redis before its device's restore.
        this.sendWaitingWrites();
        const answers = await Promise.all(
          slice.flatMap((device) => [
            this.scripts.presenceRestore(
              this.tenantKey(device.tenant),
              device.deviceId,
              String(now),
              node,
              device.gateway ?? '',
            ),
            this.setAdds.add(this.nodeKey(node), deviceRefKey(device)),
          ]),
        );
        slice.forEach(({ tenant, deviceId }, j) => {
          const outcome = answers[2 * j];
          if (outcome === 1) result.moved.push({ tenant, deviceId });
          else if (outcome === 2) result.restored.push({ tenant, deviceId });
        });
      }
      this.owed.delete(node);
      return result;
    });
  }

  /** Marks offline what the node's set names but the node does not hold (a predecessor's). */
  private async releaseUnheld(
    node: string,
    held: Set<string>,
    now: number,
    released: DeviceRef[],
  ): Promise<void> {
    const stream = this.redis.sscanStream(this.nodeKey(node), { count: RESTORE_BATCH });
    for await (const keys of stream as AsyncIterable<string[]>) {
      const refs = keys.filter((key) => !held.has(key)).map(parseDeviceRef);
      if (refs.length === 0) continue;
      const answers = await Promise.all(
        refs.flatMap((ref) => [
          this.release(ref, node, now),
          this.setRemoves.add(this.nodeKey(node), deviceRefKey(ref)),
        ]),
      );
      refs.forEach((ref, i) => {
        if (answers[2 * i] === 1) released.push(ref);
      });
    }
  }

  async get(device: DeviceRef, now: number): Promise<PresenceRecord> {
    return this.typed('get', async () => {
      this.sendWaitingWrites();
      const stored = decodeRecord(
        await this.redis.hget(this.tenantKey(device.tenant), device.deviceId),
      );
      // The lease of the node the record names, whatever the number of nodes.
      const beat = stored?.node
        ? await this.redis.zscore(this.k('{nodes}:beat'), stored.node)
        : null;
      const leases = new Map<string, number>();
      if (stored?.node && beat !== null) leases.set(stored.node, Number(beat));
      return toRecord(device, stored, leases, now, this.ttl);
    });
  }

  async owner(device: DeviceRef): Promise<string | undefined> {
    return this.typed('owner', async () => {
      this.sendWaitingWrites();
      const value = await this.redis.hget(this.tenantKey(device.tenant), device.deviceId);
      const node = decodeRecord(value)?.node;
      return node ? node : undefined;
    });
  }

  async listPage(tenant: string, now: number, query: PageQuery): Promise<DevicePage> {
    const from = query.cursor === undefined ? '0' : decodeScanCursor(query.cursor);
    return this.typed('list', async () => {
      this.sendWaitingWrites();
      // One HSCAN step, not HGETALL: a page costs about `limit` records whatever the tenant's
      // size. A step may answer a field twice (while the hash is rehashed): the map keeps one.
      const [next, pairs] = await this.redis.hscan(
        this.tenantKey(tenant),
        from,
        'COUNT',
        query.limit,
      );
      const stored = new Map<string, StoredRecord | undefined>();
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        stored.set(pairs[i] as string, decodeRecord(pairs[i + 1]));
      }
      const leases = await this.leasesOf(stored.values());
      const records = [...stored]
        .map(([deviceId, record]) => toRecord({ tenant, deviceId }, record, leases, now, this.ttl))
        .sort(byDeviceId);
      return next === '0' ? { records } : { records, next: encodeScanCursor(next) };
    });
  }

  async forget(device: DeviceRef): Promise<ForgetResult> {
    return this.typed('forget', async () => {
      this.sendWaitingWrites();
      const answer = await this.scripts.presenceForget(
        this.tenantKey(device.tenant),
        device.deviceId,
      );
      return answer === 1 ? 'forgotten' : answer === 0 ? 'held' : 'unknown';
    });
  }

  /** The heartbeats of the nodes the records name (those with a lease), in bounded reads. */
  private async leasesOf(
    records: Iterable<StoredRecord | undefined>,
  ): Promise<Map<string, number>> {
    const nodes = new Set<string>();
    for (const record of records) if (record?.node) nodes.add(record.node);
    const names = [...nodes];
    const leases = new Map<string, number>();
    for (let i = 0; i < names.length; i += LEASE_READ_BATCH) {
      const batch = names.slice(i, i + LEASE_READ_BATCH);
      const beats = await this.redis.zmscore(this.k('{nodes}:beat'), ...batch);
      batch.forEach((node, j) => {
        const beat = beats[j];
        if (beat !== null && beat !== undefined) leases.set(node, Number(beat));
      });
    }
    return leases;
  }

  async nodeLoads(now: number): Promise<NodeLoad[]> {
    return this.typed('nodeLoads', async () => {
      this.sendWaitingWrites();
      const beats = await this.redis.zrangebyscore(
        this.k('{nodes}:beat'),
        `(${now - this.ttl}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        MAX_NODE_LOADS,
      );
      const nodes = [...withScores(beats)];
      if (nodes.length === 0) return [];
      const counts = await this.redis.hmget(this.k('{nodes}:load'), ...nodes.map(([node]) => node));
      const loads: NodeLoad[] = [];
      nodes.forEach(([node, at], i) => {
        const connections = parseConnections(counts[i]);
        if (connections !== undefined) loads.push({ node, connections, at });
      });
      return loads.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    });
  }

  async reapDeadNodes(now: number): Promise<ReapedDevice[]> {
    return this.typed('reapDeadNodes', async () => {
      this.sendWaitingWrites();
      const dead = withScores(
        await this.redis.zrangebyscore(
          this.k('{nodes}:beat'),
          '-inf',
          now - this.ttl,
          'WITHSCORES',
          'LIMIT',
          0,
          MAX_NODE_LOADS,
        ),
      );
      const reaped: ReapedDevice[] = [];
      for (const [node] of dead) {
        const lock = this.k(`{nodes}:reap:${node}`);
        if ((await this.redis.set(lock, '1', 'PX', this.ttl, 'NX')) !== 'OK') continue;
        // It may have renewed between the range read and the lock.
        const beat = await this.redis.zscore(this.k('{nodes}:beat'), node);
        if (beat !== null && Number(beat) > now - this.ttl) continue;
        const lastSeen = beat === null ? now : Number(beat);
        const stream = this.redis.sscanStream(this.nodeKey(node), { count: RESTORE_BATCH });
        for await (const keys of stream as AsyncIterable<string[]>) {
          const refs = keys.map(parseDeviceRef);
          const answers = await Promise.all(refs.map((ref) => this.release(ref, node, lastSeen)));
          refs.forEach((ref, i) => {
            if (answers[i] === 1) reaped.push({ ...ref, node });
          });
        }
        await this.redis.unlink(this.nodeKey(node));
        // One slot, `{nodes}`: a transaction a cluster runs too.
        await this.redis
          .multi()
          .zrem(this.k('{nodes}:beat'), node)
          .hdel(this.k('{nodes}:load'), node)
          .hdel(this.k('{nodes}:epoch'), node)
          .exec();
      }
      return reaped;
    });
  }

  /** An operation's failure as a BusError (the cause kept): Redis away, silent or refusing. */
  private async typed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof BusError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new BusError('BUS_UNAVAILABLE', `presence ${operation} failed: ${reason}`, { cause });
    }
  }

  async close(): Promise<void> {
    // QUIT is written at once, not auto-pipelined: the batched writes must be answered first.
    await Promise.all(this.batches().map((batches) => batches.flush()));
    await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  /**
   * The turn's batched writes, sent before any command the store sends itself (at the start of
   * each operation, and again after an await before writing): a read (a takeover's look-up of
   * the record) must see the writes made before it, as it did when each write left at once on
   * the same connection.
   */
  private sendWaitingWrites(): void {
    for (const batches of this.batches()) void batches.flush();
  }

  private batches(): Pick<TickBatches<never, unknown>, 'flush'>[] {
    return [this.onlineWrites, this.offlineWrites, this.setAdds, this.setRemoves];
  }

  private get ttl(): number {
    return this.options.ttlMs;
  }

  private get maxDevicesPerTenant(): number {
    return this.options.maxDevicesPerTenant ?? DEFAULT_MAX_DEVICES_PER_TENANT;
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  private tenantKey(tenant: string): string {
    return this.k(`{t:${tenant}}:d`);
  }

  private nodeKey(node: string): string {
    return this.k(`{n:${node}}:d`);
  }

  private k(key: string): string {
    return `${this.prefix}${key}`;
  }
}

/** Node → score, from a WITHSCORES reply. */
function withScores(reply: string[]): Map<string, number> {
  const scores = new Map<string, number>();
  for (let i = 0; i + 1 < reply.length; i += 2) {
    scores.set(reply[i] as string, Number(reply[i + 1]));
  }
  return scores;
}

/** What a stored record means now: online while the node it names has a live lease. */
function toRecord(
  device: DeviceRef,
  stored: StoredRecord | undefined,
  leases: Map<string, number>,
  now: number,
  ttlMs: number,
): PresenceRecord {
  const ref = { tenant: device.tenant, deviceId: device.deviceId };
  if (!stored) return { ...ref, online: false };
  const gateway = stored.gateway === '' ? {} : { gateway: stored.gateway };
  const beat = stored.node === '' ? undefined : leases.get(stored.node);
  if (beat === undefined || beat <= now - ttlMs) {
    // A record whose node's lease is dead: its last heartbeat is when the device was last seen.
    return { ...ref, online: false, lastSeen: Math.max(stored.t, beat ?? 0), ...gateway };
  }
  return {
    ...ref,
    online: true,
    node: stored.node,
    connectedAt: stored.t,
    lastSeen: Math.max(stored.t, beat),
    ...gateway,
  };
}
