/**
 * Where an acked id that is not in PostgreSQL was last seen: acked by which edge and when (the
 * SDK's side), in the telemetry topic (partition, offset, and whether the ingest group committed
 * past it), in the dead-letter topic (with the reason), in the edge and ingest logs. The verdict
 * says whose bug a loss is: in Kafka and committed but not stored is the ingest's; acked and
 * never in Kafka is the edge's (an ack before Kafka had the record).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Kafka, logLevel, pg } from './deps.js';

export interface AckedId {
  id: string;
  phase: string;
  /** The edge the device was connected to when the ack came (its welcome's `node`). */
  ackedBy: string | undefined;
  ackedAt: number;
}

export type Verdict =
  | 'stored late' // in PostgreSQL now: the ingest was behind, nothing lost
  | 'not consumed yet' // in Kafka past the group's committed offset: the ingest is behind
  | 'dead-lettered'
  | 'INGEST BUG' // in Kafka, committed past, not stored, not dead-lettered
  | 'EDGE BUG'; // acked, and in no partition of the topic

export interface Explanation extends AckedId {
  /** Every copy in the telemetry topic: `p<partition>@<offset>`. */
  inKafka: string[];
  /** The ingest group's committed offset of the partition of the first copy. */
  committed: string | undefined;
  deadLetter: string | undefined;
  stored: number;
  /** Log lines (part: line start) that name the id. */
  logLines: string[];
  verdict: Verdict;
}

export interface ExplainOptions {
  brokers: string[];
  topic: string;
  dlqTopic: string;
  /** The ingest workers' consumer group. */
  groupId: string;
  databaseUrl: string;
  tenant: string;
  /** Part name → log file, searched for the ids. */
  logs: Map<string, string>;
  /** Reading the topics stops after this long even if the end was not reached. */
  readBoundMs: number;
  log: (line: string) => void;
}

interface Copy {
  partition: number;
  offset: string;
}

/** The end offset of every partition of `topics` now, as `topic|partition` → offset. */
async function endOffsets(kafka: InstanceType<typeof Kafka>, topics: string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}|${p.partition}`, BigInt(p.high));
      }
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topics` from the beginning up to their end offsets of now (a fresh consumer group,
 * deleted afterwards), handing each record to `each`; stops at `boundMs` whatever was reached.
 * Returns whether every partition was read to its end.
 */
async function readTopics(
  kafka: InstanceType<typeof Kafka>,
  topics: string[],
  boundMs: number,
  each: (
    topic: string,
    partition: number,
    offset: string,
    message: { key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> },
  ) => void,
): Promise<boolean> {
  const ends = await endOffsets(kafka, topics);
  if (ends.size === 0) return true;
  const groupId = `chaos-explain-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 8 << 20 });
  const remaining = new Set(ends.keys());
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(resolve, boundMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            const key = `${batch.topic}|${batch.partition}`;
            const end = ends.get(key);
            if (end === undefined) return;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              each(batch.topic, batch.partition, m.offset, m);
              if (BigInt(m.offset) + 1n >= end) remaining.delete(key);
            }
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect().catch(() => undefined));
  }
  return remaining.size === 0;
}

/** The ingest group's committed offset per partition of `topic` (-1: none). */
async function committedOffsets(
  kafka: InstanceType<typeof Kafka>,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Rows per msg id of `tenant` among `ids`, now. */
export async function storedNow(
  databaseUrl: string,
  tenant: string,
  ids: string[],
): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ msg_id: string; n: number }>(
      'select msg_id, count(*)::int as n from telemetry where tenant = $1 and msg_id = any($2::text[]) group by msg_id',
      [tenant, ids],
    );
    return new Map(rows.map((r) => [r.msg_id, r.n]));
  } finally {
    await client.end().catch(() => {});
  }
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** Looks each of `ids` up everywhere it could have been; see the file's comment. */
export async function explainMissing(
  ids: AckedId[],
  options: ExplainOptions,
): Promise<{ explanations: Explanation[]; readToEnd: boolean }> {
  const wanted = new Map(ids.map((a) => [a.id, a]));
  const copies = new Map<string, Copy[]>();
  const letters = new Map<string, string>();
  const kafka = new Kafka({
    clientId: 'chaos-explain',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const prefix = `${options.tenant}/`;
  const started = Date.now();
  const readToEnd = await readTopics(
    kafka,
    [options.topic, options.dlqTopic],
    options.readBoundMs,
    (topic, partition, offset, message) => {
      if (topic === options.topic) {
        // The key is `tenant/deviceId`: only the run's tenant's values are parsed.
        if (!message.key?.toString('utf8').startsWith(prefix) || !message.value) return;
        let msgId: unknown;
        try {
          msgId = (JSON.parse(message.value.toString('utf8')) as { msgId?: unknown }).msgId;
        } catch {
          return;
        }
        if (typeof msgId !== 'string' || !wanted.has(msgId)) return;
        const list = copies.get(msgId) ?? [];
        list.push({ partition, offset });
        copies.set(msgId, list);
        return;
      }
      // A dead letter's value is the original record's bytes (or dropped): look for each id.
      const value = message.value?.toString('utf8') ?? '';
      for (const id of wanted.keys()) {
        if (!value.includes(`"${id}"`)) continue;
        const h = message.headers;
        letters.set(
          id,
          `${header(h, 'fleetwire-dlq-reason') ?? '?'} (${header(h, 'fleetwire-dlq-message') ?? ''}), from p${header(h, 'fleetwire-source-partition') ?? '?'}@${header(h, 'fleetwire-source-offset') ?? '?'}`,
        );
      }
    },
  );
  options.log(
    `  explain: read ${options.topic} and ${options.dlqTopic} in ${((Date.now() - started) / 1000).toFixed(1)} s${readToEnd ? '' : ' (NOT to the end: bound reached)'}`,
  );
  const committed = await committedOffsets(kafka, options.groupId, options.topic);
  const stored = await storedNow(options.databaseUrl, options.tenant, [...wanted.keys()]);

  // Log lines naming an id (the ingest logs dead letters by offset, so their offsets too).
  const logLines = new Map<string, string[]>();
  for (const [part, file] of options.logs) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      for (const id of wanted.keys()) {
        const offsets = (copies.get(id) ?? []).map((c) => `"offset":"${c.offset}"`);
        if (line.includes(id) || offsets.some((o) => line.includes(o))) {
          const list = logLines.get(id) ?? [];
          if (list.length < 3) list.push(`${part}: ${line.slice(0, 160)}`);
          logLines.set(id, list);
        }
      }
    }
  }

  const explanations = ids.map((a): Explanation => {
    const inKafka = (copies.get(a.id) ?? []).map((c) => `p${c.partition}@${c.offset}`);
    const found = copies.get(a.id) ?? [];
    const partitionCommitted = found[0] ? committed.get(found[0].partition) : undefined;
    const n = stored.get(a.id) ?? 0;
    const deadLetter = letters.get(a.id);
    let verdict: Verdict;
    if (n > 0) verdict = 'stored late';
    else if (deadLetter) verdict = 'dead-lettered';
    else if (found.length === 0) verdict = 'EDGE BUG';
    else if (found.every((c) => (committed.get(c.partition) ?? -1n) > BigInt(c.offset)))
      verdict = 'INGEST BUG';
    else verdict = 'not consumed yet';
    return {
      ...a,
      inKafka,
      committed: partitionCommitted === undefined ? undefined : String(partitionCommitted),
      deadLetter,
      stored: n,
      logLines: logLines.get(a.id) ?? [],
      verdict,
    };
  });
  return { explanations, readToEnd };
}

/** The explanations as markdown: a count per verdict, then one row per id (at most `rows`). */
export function explanationReport(explanations: Explanation[], rows = 40): string[] {
  const byVerdict = new Map<Verdict, number>();
  for (const e of explanations) byVerdict.set(e.verdict, (byVerdict.get(e.verdict) ?? 0) + 1);
  const lines = [
    `Acked ids missing from PostgreSQL after the bound, looked up: ${[...byVerdict.entries()].map(([v, n]) => `${n} ${v}`).join(', ')}.`,
    '',
    '| id | phase | acked by | acked at | in Kafka | committed | dead letter | PostgreSQL now | logs | verdict |',
    '| --- | --- | --- | --- | --- | ---: | --- | ---: | --- | --- |',
  ];
  for (const e of explanations.slice(0, rows)) {
    lines.push(
      `| ${e.id} | ${e.phase} | ${e.ackedBy ?? '?'} | ${new Date(e.ackedAt).toISOString().slice(11, 23)} | ${e.inKafka.join(', ') || 'nowhere'} | ${e.committed ?? '—'} | ${e.deadLetter ?? '—'} | ${e.stored} | ${e.logLines.map((l) => `\`${l.replace(/[`|]/g, "'")}\``).join('<br>') || '—'} | ${e.verdict} |`,
    );
  }
  if (explanations.length > rows) lines.push('', `… and ${explanations.length - rows} more.`);
  return lines;
}
