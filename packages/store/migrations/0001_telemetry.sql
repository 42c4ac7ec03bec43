-- Telemetry as the edge accepted it, one row per message, partitioned by day on the receive time.
-- The primary key is the dedupe key: a Kafka replay carries the same tenant, device, ts and msg id,
-- so it inserts nothing. PostgreSQL requires a partitioned table's unique keys to include the
-- partition key, hence ts in it. Its column order also serves "one device over a time range"
-- (forward scan) and "a device's latest value" (backward scan), so no second index is needed.
create table telemetry (
  tenant text not null,
  device_id text not null,
  ts timestamptz not null,
  msg_id text not null,
  topic text not null,
  data jsonb not null,
  constraint telemetry_pkey primary key (tenant, device_id, ts, msg_id)
) partition by range (ts);

-- The newest message per device and topic, upserted by the same statement that inserts a batch, so
-- "latest values of a tenant's devices" reads one small index instead of every partition.
create table telemetry_latest (
  tenant text not null,
  device_id text not null,
  topic text not null,
  ts timestamptz not null,
  msg_id text not null,
  data jsonb not null,
  constraint telemetry_latest_pkey primary key (tenant, device_id, topic)
);
