/* global __ENV -- k6 runtime global */
// Parameters of the scenarios, from the environment (k6 -e NAME=value or exported variables).
function num(name, fallback) {
  const value = __ENV[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number, got ${value}`);
  return parsed;
}

function required(name) {
  const value = __ENV[name];
  if (!value) throw new Error(`${name} is not set (load-tests/k6/README.md)`);
  return value;
}

export const config = {
  /** wss://host:port/ws of the balancer. */
  url: required('FLEETWIRE_URL'),
  secret: required('FLEETWIRE_JWT_HS256_SECRET'),
  issuer: __ENV.FLEETWIRE_JWT_ISSUER || undefined,
  audience: __ENV.FLEETWIRE_JWT_AUDIENCE || undefined,
  tenant: __ENV.TENANT || 'k6',
  devices: num('DEVICES', 500),
  /** Telemetry messages per second per device. */
  ratePerDevice: num('RATE_PER_DEVICE', 1),
  dashboards: num('DASHBOARDS', 4),
  commanders: num('COMMANDERS', 10),
  /** Commands per second per commander. */
  commandRate: num('COMMAND_RATE', 2),
  rampSec: num('RAMP_SEC', 30),
  holdSec: num('HOLD_SEC', 60),
};
