-- One state document per device: what the cloud wants (desired), what the device has (reported),
-- when each key was last set, and a version bumped by every change (optimistic concurrency).
-- The delta is not stored: it is a function of desired and reported, computed when read.
create table device_state (
  tenant text not null,
  device_id text not null,
  version integer not null default 0,
  desired jsonb not null default '{}',
  desired_ts jsonb not null default '{}',
  reported jsonb not null default '{}',
  reported_ts jsonb not null default '{}',
  updated_at timestamptz not null default now(),
  constraint device_state_pkey primary key (tenant, device_id)
);
