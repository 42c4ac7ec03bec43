/**
 * The scenarios' parameters, read once from the environment (the names k6's fleet.js uses, so
 * either runner takes the same settings).
 */
import { z } from 'zod';

const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const positive = (fallback: number) => z.coerce.number().positive().default(fallback);

const FleetEnv = z.object({
  /** ws(s)://host:port/ws of the balancer or an edge. */
  FLEETWIRE_URL: z.url({ protocol: /^wss?$/ }),
  FLEETWIRE_JWT_HS256_SECRET: z.string().min(1),
  FLEETWIRE_JWT_ISSUER: z.string().optional(),
  FLEETWIRE_JWT_AUDIENCE: z.string().optional(),
  /** PEM file of the CA that signed a wss endpoint's certificate (the local cluster's own). */
  FLEETWIRE_CA_FILE: z.string().optional(),
  TENANT: z.string().default('fleet'),
  DEVICES: count(500),
  RATE_PER_DEVICE: positive(1),
  DASHBOARDS: count(4),
  COMMANDERS: count(10),
  COMMAND_RATE: positive(2),
  RAMP_SEC: positive(30),
  HOLD_SEC: positive(60),
  /** Devices per client process (~15k sockets fit one process; fewer spread the client's CPU). */
  DEVICES_PER_PROCESS: z.coerce.number().int().min(1).max(15_000).default(2_000),
});

export interface FleetParams {
  url: string;
  secret: string;
  issuer?: string;
  audience?: string;
  caFile?: string;
  tenant: string;
  devices: number;
  ratePerDevice: number;
  dashboards: number;
  commanders: number;
  commandRate: number;
  rampSec: number;
  holdSec: number;
  devicesPerProcess: number;
}

export function fleetParams(env: Record<string, string | undefined>): FleetParams {
  const e = FleetEnv.parse(env);
  return {
    url: e.FLEETWIRE_URL,
    secret: e.FLEETWIRE_JWT_HS256_SECRET,
    ...(e.FLEETWIRE_JWT_ISSUER ? { issuer: e.FLEETWIRE_JWT_ISSUER } : {}),
    ...(e.FLEETWIRE_JWT_AUDIENCE ? { audience: e.FLEETWIRE_JWT_AUDIENCE } : {}),
    ...(e.FLEETWIRE_CA_FILE ? { caFile: e.FLEETWIRE_CA_FILE } : {}),
    tenant: e.TENANT,
    devices: e.DEVICES,
    ratePerDevice: e.RATE_PER_DEVICE,
    dashboards: e.DASHBOARDS,
    commanders: e.COMMANDERS,
    commandRate: e.COMMAND_RATE,
    rampSec: e.RAMP_SEC,
    holdSec: e.HOLD_SEC,
    devicesPerProcess: e.DEVICES_PER_PROCESS,
  };
}
