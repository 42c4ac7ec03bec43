import { topicMatches } from '@fleetwire/protocol';
import type { Cluster, Redis } from 'ioredis';

import {
  DOMAIN_SCAN_FACTOR,
  compareOffsets,
  domainOf,
  parseOffset,
  type HistoryEntry,
  type HistoryQuery,
  type HistoryRead,
  type Appended,
  type Position,
} from './history.js';

/**
 * The domain's clock and the topics' streams are advanced, trimmed and published in one script,
 * so a position exists exactly when its delivery went out; a batch of messages of one domain
 * shares the script's overhead (the index takes one ZADD per 256 messages: a call from Lua costs
 * more than a member's work). Keys share the `{domain}` hash tag (one Redis Cluster slot).
 * Offsets come from the domain clock (`e` epoch, `m` ms, `n` counter): Redis TIME, never going
 * back, with a counter inside one millisecond, so they order every topic of the domain, not only
 * one stream. The clock has no TTL (one small hash per tenant); when it is gone the history is
 * gone, and the next append starts a new epoch.
 *
 * KEYS: clock, index (topic → last ms), then one stream per message.
 * ARGV: new epoch, horizonMs, publish command (PUBLISH, or SPUBLISH on a Redis Cluster), then per
 *       message: maxCount, maxAgeMs, topic in the domain, payload, channel ('' = stored, not
 *       fanned out: nobody listens), head, lead. The frame is
 *       `<head> <epoch> <offset>\n<lead><payload>` (see HistoryFraming).
 */
const APPEND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local c = redis.call('HMGET', KEYS[1], 'e', 'm', 'n')
local epoch = c[1] or ARGV[1]
local ms = tonumber(c[2]) or 0
local n = tonumber(c[3]) or 0
local out = {epoch}
local minids = {}
local index = {}
for i = 3, #KEYS do
  local b = 3 + (i - 3) * 7
  if now > ms then ms = now; n = 0 else n = n + 1 end
  local id = string.format('%d-%d', ms, n)
  local age = ARGV[b + 2]
  local minid = minids[age]
  if not minid then
    minid = string.format('%d', now - tonumber(age))
    minids[age] = minid
  end
  redis.call('XADD', KEYS[i], 'MAXLEN', ARGV[b + 1], id, 'p', ARGV[b + 4])
  redis.call('XTRIM', KEYS[i], 'MINID', '~', minid)
  redis.call('PEXPIRE', KEYS[i], age)
  index[#index + 1] = string.format('%d', ms)
  index[#index + 1] = ARGV[b + 3]
  if #index == 512 then
    redis.call('ZADD', KEYS[2], unpack(index))
    index = {}
  end
  if ARGV[b + 5] ~= '' then
    redis.call(ARGV[3], ARGV[b + 5],
      ARGV[b + 6] .. ' ' .. epoch .. ' ' .. id .. '\\n' .. ARGV[b + 7] .. ARGV[b + 4])
  end
  out[#out + 1] = id
end
if #index > 0 then redis.call('ZADD', KEYS[2], unpack(index)) end
redis.call('HSET', KEYS[1], 'e', epoch, 'm', string.format('%d', ms), 'n', n)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[2])))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return out
`;

/** Entries a history read takes from a stream at a time before it checks its bounds again. */
const READ_PAGE = 64;

/**
 * Reads every entry after a position from the given streams, or says why it cannot: another
 * epoch, a position older than the retention age, or a stream trimmed past the position (Redis
 * 7.0 does not say which entries a trim removed: a stream that lost entries and whose first
 * retained one is after the position counts as expired, which can only err towards "expired").
 *
 * KEYS: clock, then the streams. ARGV: epoch, after offset, after ms, maxAgeMs, maxMessages,
 * maxBytes (of the entries' payloads).
 * Returns {status, epoch, head offset, now, [stream index, entries]...}.
 */
const READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local c = redis.call('HMGET', KEYS[1], 'e', 'm', 'n')
local head = string.format('%d-%d', tonumber(c[2]) or 0, tonumber(c[3]) or 0)
local function reply(status, rest)
  local out = {status, c[1] or '', head, string.format('%d', now)}
  if rest then for _, v in ipairs(rest) do out[#out + 1] = v end end
  return out
end
if not c[1] or c[1] ~= ARGV[1] then return reply('epoch_changed') end
if tonumber(ARGV[3]) < now - tonumber(ARGV[4]) then return reply('expired') end
local am, an = string.match(ARGV[2], '^(%d+)-(%d+)$')
am = tonumber(am); an = tonumber(an)
local function after(id)
  local m, k = string.match(id, '^(%d+)-(%d+)$')
  m = tonumber(m); k = tonumber(k)
  return m > am or (m == am and k > an)
end
local max = tonumber(ARGV[5])
local max_bytes = tonumber(ARGV[6])
local total = 0
local bytes = 0
local found = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local info = redis.call('XINFO', 'STREAM', KEYS[i])
    local length, added, first = 0, 0, nil
    for j = 1, #info, 2 do
      if info[j] == 'length' then length = info[j + 1]
      elseif info[j] == 'entries-added' then added = info[j + 1]
      elseif info[j] == 'recorded-first-entry-id' then first = info[j + 1] end
    end
    if added > length and first and after(first) then return reply('expired') end
    -- In pages, each checked against the bounds: a stream's whole range loaded before the
    -- check would cost Redis up to maxMessages payloads of memory for a read it then refuses.
    local entries = {}
    local from = '(' .. ARGV[2]
    while true do
      local want = math.min(${READ_PAGE}, max - total + 1)
      local page = redis.call('XRANGE', KEYS[i], from, '+', 'COUNT', want)
      total = total + #page
      if total > max then return reply('too_many') end
      for _, entry in ipairs(page) do
        bytes = bytes + #entry[2][2]
        entries[#entries + 1] = entry
      end
      if bytes > max_bytes then return reply('too_many') end
      if #page < want then break end
      from = '(' .. page[#page][1]
    end
    if #entries > 0 then
      found[#found + 1] = i - 1
      found[#found + 1] = entries
    end
  end
end
return reply('ok', found)
`;

/**
 * The history scripts, which take their key count as their first argument. ioredis Cluster's
 * auto-pipelining groups a command by the node of its first argument, the count here, not a key:
 * such a command could share a pipeline with another master's commands (refused: "All keys in the
 * pipeline should belong to the same slots allocation group") or go to the wrong master and come
 * back redirected ~100 ms later, behind commands sent after it. A cluster client sends these
 * outside auto-pipelining (`autoPipeliningIgnoredCommands`).
 */
export const KEY_COUNT_FIRST_SCRIPTS = ['fleetwireAppend', 'fleetwireRead'];

type AppendCommand = (...args: (string | number | Buffer)[]) => Promise<string[]>;
type ReadCommand = (...args: (string | number)[]) => Promise<unknown[]>;

/**
 * How an appended message is fanned out: the command, and per message its channel (undefined:
 * stored only, because nobody listens), the frame's head (before ` <epoch> <offset>`) and lead
 * (the bytes between the header line and the payload).
 */
export interface HistoryFraming {
  command: 'PUBLISH' | 'SPUBLISH';
  frame(
    topic: string,
    origin: string,
    seq: number,
  ): { channel: string; head: string; lead: string } | undefined;
}

/** The single-Redis frame: channel per topic, header `<origin> <seq> <epoch> <offset>`. */
export function topicChannelFraming(prefix: string): HistoryFraming {
  return {
    command: 'PUBLISH',
    frame: (topic, origin, seq) => ({
      channel: `${prefix}t:${topic}`,
      head: `${origin} ${seq}`,
      lead: '',
    }),
  };
}

/** The history half of the Redis bus: keys, the append and read scripts. */
export class RedisHistory {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly newEpoch: string,
    private readonly framing: HistoryFraming = topicChannelFraming(prefix),
  ) {
    redis.defineCommand('fleetwireAppend', { lua: APPEND });
    redis.defineCommand('fleetwireRead', { lua: READ });
  }

  private key(domain: string, part: string): string {
    return `${this.prefix}h:{${domain}}:${part}`;
  }

  streamKey(topic: string): string {
    const domain = domainOf(topic);
    return this.key(domain, `s:${topic.slice(domain.length + 1)}`);
  }

  /** `firstSeq`: the origin's sequence number of the first message (one per message). */
  async append(batch: readonly Appended[], origin: string, firstSeq: number): Promise<Position[]> {
    if (batch.length === 0) return [];
    const domain = domainOf((batch[0] as Appended).topic);
    const horizonMs = Math.max(...batch.map((m) => m.retention.horizonMs));
    const perMessage = batch.flatMap(({ topic, payload, retention }, i) => {
      if (domainOf(topic) !== domain) throw new Error(`${topic}: not in domain ${domain}`);
      const frame = this.framing.frame(topic, origin, firstSeq + i);
      return [
        retention.maxCount,
        retention.maxAgeMs,
        topic.slice(domain.length + 1),
        Buffer.from(payload),
        frame?.channel ?? '',
        frame?.head ?? '',
        frame?.lead ?? '',
      ];
    });
    const append = (this.redis as unknown as { fleetwireAppend: AppendCommand }).fleetwireAppend;
    const [epoch, ...offsets] = await append.call(
      this.redis,
      2 + batch.length,
      this.key(domain, 'c'),
      this.key(domain, 'i'),
      ...batch.map(({ topic }) => this.streamKey(topic)),
      this.newEpoch,
      horizonMs,
      this.framing.command,
      ...perMessage,
    );
    return offsets.map((offset) => ({ epoch: epoch as string, offset }));
  }

  private async head(domain: string): Promise<Position> {
    const [epoch, ms, n] = await this.redis.hmget(this.key(domain, 'c'), 'e', 'm', 'n');
    return { epoch: epoch ?? '', offset: `${ms ?? 0}-${n ?? 0}` };
  }

  async read(query: HistoryQuery): Promise<HistoryRead> {
    const domain = domainOf(query.pattern);
    const after = parseOffset(query.after.offset);
    if (!after) {
      return { ok: false, reason: 'epoch_changed', head: query.after, now: Date.now() };
    }
    // Topics active since the position (one read: a topic first used after it is seen live), of
    // which the pattern's count; a domain with far more than that is not looked through.
    const scan = query.maxStreams * DOMAIN_SCAN_FACTOR;
    const active = await this.redis.zrangebyscore(
      this.key(domain, 'i'),
      after.ms,
      '+inf',
      'LIMIT',
      0,
      scan + 1,
    );
    const topics = active
      .map((rest) => `${domain}/${rest}`)
      .filter((topic) => topicMatches(query.pattern, topic));
    if (active.length > scan || topics.length > query.maxStreams) {
      const head = await this.head(domain);
      return { ok: false, reason: 'too_many', head, now: Date.now() };
    }
    const read = (this.redis as unknown as { fleetwireReadBuffer: ReadCommand })
      .fleetwireReadBuffer;
    const reply = (await read.call(
      this.redis,
      1 + topics.length,
      this.key(domain, 'c'),
      ...topics.map((topic) => this.streamKey(topic)),
      query.after.epoch,
      query.after.offset,
      after.ms,
      query.maxAgeMs,
      query.maxMessages,
      query.maxBytes,
    )) as (Buffer | number | unknown[])[];
    const [status, epoch, headOffset, nowText] = reply.slice(0, 4).map(String) as [
      string,
      string,
      string,
      string,
    ];
    const head = { epoch, offset: headOffset };
    const now = Number(nowText);
    if (status !== 'ok') {
      return { ok: false, reason: status as 'expired' | 'epoch_changed' | 'too_many', head, now };
    }
    const entries: HistoryEntry[] = [];
    for (let i = 4; i + 1 < reply.length; i += 2) {
      const topic = topics[Number(reply[i]) - 1] as string;
      for (const [id, fields] of reply[i + 1] as [Buffer, Buffer[]][]) {
        entries.push({
          topic,
          payload: fields[1] as Buffer,
          position: { epoch, offset: id.toString() },
        });
      }
    }
    entries.sort((a, b) =>
      compareOffsets(
        parseOffset(a.position.offset) as { ms: number; n: number },
        parseOffset(b.position.offset) as { ms: number; n: number },
      ),
    );
    return { ok: true, entries, head, now };
  }
}
