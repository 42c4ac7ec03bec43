// The statements of the telemetry store, the same on PostgreSQL and PGlite.

// One statement per batch: insert what is new, and move each device/topic's latest value forward
// from the rows that were new. Sorting fixes the lock order, so two writers of overlapping rows
// (a rebalance hand-over) wait for each other instead of deadlocking.
export const INSERT_BATCH = `
with input as (
  select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])
    as r(tenant, device_id, ts, msg_id, topic, data)
), inserted as (
  insert into telemetry (tenant, device_id, ts, msg_id, topic, data)
  select tenant, device_id, ts, msg_id, topic, data from input
  order by tenant, device_id, ts, msg_id
  on conflict do nothing
  returning tenant, device_id, ts, msg_id, topic, data
), newest as (
  select distinct on (tenant, device_id, topic) tenant, device_id, topic, ts, msg_id, data
  from inserted
  order by tenant, device_id, topic, ts desc, msg_id desc
), latest as (
  insert into telemetry_latest as l (tenant, device_id, topic, ts, msg_id, data)
  select tenant, device_id, topic, ts, msg_id, data from newest
  on conflict (tenant, device_id, topic) do update
    set ts = excluded.ts, msg_id = excluded.msg_id, data = excluded.data
    where (excluded.ts, excluded.msg_id) > (l.ts, l.msg_id)
)
select count(*)::int as inserted from inserted`;

export const RANGE = {
  asc: `
select device_id, topic, ts, msg_id, data from telemetry
 where tenant = $1 and device_id = $2 and ts >= $3 and ts < $4
   and ($5::text is null or topic = $5)
   and ($6::timestamptz is null or (ts, msg_id) > ($6::timestamptz, $7::text))
 order by ts, msg_id
 limit $8`,
  desc: `
select device_id, topic, ts, msg_id, data from telemetry
 where tenant = $1 and device_id = $2 and ts >= $3 and ts < $4
   and ($5::text is null or topic = $5)
   and ($6::timestamptz is null or (ts, msg_id) < ($6::timestamptz, $7::text))
 order by ts desc, msg_id desc
 limit $8`,
};

export const LATEST = `
select device_id, topic, ts, msg_id, data from telemetry_latest
 where tenant = $1
   and ($2::text[] is null or device_id = any($2::text[]))
   and ($3::text is null or (device_id, topic) > ($3::text, $4::text))
 order by device_id, topic
 limit $5`;

// Buckets align to the epoch (UTC), so the same bucket size gives the same edges in every query.
// Only JSON numbers count; other values at the path are skipped rather than failing the query.
export const BUCKETS = `
select date_bin($5::bigint * interval '1 millisecond', ts, timestamptz '1970-01-01 00:00:00+00') as start,
       count(*)::int as count, min(v) as min, max(v) as max, avg(v) as avg
  from (
    select ts, (data #>> $6::text[])::float8 as v from telemetry
     where tenant = $1 and device_id = $2 and ts >= $3 and ts < $4
       and ($7::text is null or topic = $7)
       and jsonb_typeof(data #> $6::text[]) = 'number'
  ) s
 group by 1
 order by 1`;
