import { optional } from '@fleetwire/config';
import { parseArgs } from 'node:util';

export const USAGE = `fleetwire: Fleetwire in one process, and its tokens

Usage:
  fleetwire start [--data <dir>] [--simulate <n>]
      Runs edge + ingest + read API + dashboard on one port (default http://127.0.0.1:8080),
      keeping telemetry in PGlite under <dir>/pglite (default ./data). --simulate starts n
      simulated devices in the same process.
  fleetwire token --role device|gateway|dashboard|service --sub <id> [--tenant <t>] [--ttl 1h]
                  [--subdevices <id,id,…>] [--subdevice-pattern <glob>] [--data <dir>]
      Prints one token signed with the key of <dir> (or FLEETWIRE_JWT_HS256_SECRET). A gateway
      token names the devices it speaks for: a list, a pattern (\`*\` any run of id characters), or both.
  fleetwire simulate [--url <ws url>] [--devices 10] [--rate 1] [--payload 0] [--seconds 0]
                     [--gateways 0 --per-gateway 3] [--prefix sim] [--tenant <t>] [--data <dir>]
      Runs simulated devices against an edge (default ws://127.0.0.1:$FLEETWIRE_PORT/ws, 8080
      when unset) with tokens from the same key as \`token\`; they send telemetry and answer
      commands. Exits 1 at once, saying why, when nothing answers there or the server refuses the
      tokens. A progress line while it runs; a summary (connected, sent, acked, nacked, errors,
      ack latency p50/p99) when stopped with Ctrl-C or after --seconds. --gateways N adds N
      gateways (<prefix>-gw-<n>), each one connection for --per-gateway M sub-devices
      (<gateway>-dev-<m>) that send and answer alike.
  fleetwire help

Environment: see services/fleetwire/README.md (FLEETWIRE_PORT, FLEETWIRE_HOST, FLEETWIRE_DATA_DIR, …).`;

export type Command =
  | { name: 'help' }
  | { name: 'start'; data?: string; simulate: number }
  | {
      name: 'token';
      data?: string;
      role: string;
      sub: string;
      tenant?: string;
      ttl: string;
      subdevices?: { ids?: string[]; pattern?: string };
    }
  | {
      name: 'simulate';
      data?: string;
      tenant?: string;
      /** Absent: the server `start` would run (FLEETWIRE_HOST, FLEETWIRE_PORT). */
      url?: string;
      devices: number;
      rate: number;
      payload: number;
      seconds: number;
      prefix: string;
      gateways: number;
      perGateway: number;
    };

/** Wrong arguments: the message says what was wrong; the user gets the usage with it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'FLEETWIRE_USAGE';
}

export function parseCommand(argv: string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    return { name: 'help' };
  }
  if (name !== 'start' && name !== 'token' && name !== 'simulate') {
    throw new UsageError(`unknown command "${name}": use start, token, simulate or help`);
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options:
        name === 'start'
          ? { data: { type: 'string' }, simulate: { type: 'string' } }
          : name === 'simulate'
            ? {
                data: { type: 'string' },
                tenant: { type: 'string' },
                url: { type: 'string' },
                devices: { type: 'string' },
                rate: { type: 'string' },
                payload: { type: 'string' },
                seconds: { type: 'string' },
                prefix: { type: 'string' },
                gateways: { type: 'string' },
                'per-gateway': { type: 'string' },
              }
            : {
                data: { type: 'string' },
                role: { type: 'string' },
                sub: { type: 'string' },
                tenant: { type: 'string' },
                ttl: { type: 'string' },
                subdevices: { type: 'string' },
                'subdevice-pattern': { type: 'string' },
              },
    }));
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  const str = (key: string): string | undefined => values[key] as string | undefined;
  if (name === 'start') {
    const simulate = str('simulate') ?? '0';
    if (!/^\d{1,5}$/.test(simulate)) {
      throw new UsageError(`start: --simulate ${simulate}: a number of devices, e.g. --simulate 5`);
    }
    return { name, simulate: Number(simulate), ...optional('data', str('data')) };
  }
  if (name === 'simulate') {
    const number = (key: string, fallback: number, max: number): number => {
      const raw = str(key) ?? String(fallback);
      const value = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || value > max) {
        throw new UsageError(`simulate: --${key} ${raw}: a number from 0 to ${max}`);
      }
      return value;
    };
    const gateways = number('gateways', 0, 1_000);
    const perGateway = number('per-gateway', 3, 256);
    const devices = number('devices', gateways > 0 ? 0 : 10, 5_000);
    const rate = number('rate', 1, 1_000);
    if (devices + gateways < 1 || rate <= 0)
      throw new UsageError('simulate: --devices (or --gateways) and --rate must be above 0');
    if (gateways > 0 && perGateway < 1)
      throw new UsageError('simulate: --per-gateway must be above 0');
    const url = str('url');
    if (url !== undefined && !/^wss?:\/\//.test(url))
      throw new UsageError(`simulate: --url ${url}: a ws:// or wss:// URL`);
    const prefix = str('prefix') ?? 'sim';
    if (!/^[A-Za-z0-9_.:@-]{1,64}$/.test(prefix))
      throw new UsageError(`simulate: --prefix ${prefix}: letters, digits, _ . : @ -`);
    return {
      name,
      ...optional('url', url),
      devices,
      rate,
      payload: number('payload', 0, 65_536),
      seconds: number('seconds', 0, 86_400),
      prefix,
      gateways,
      perGateway,
      ...optional('tenant', str('tenant')),
      ...optional('data', str('data')),
    };
  }
  const role = str('role');
  const sub = str('sub');
  if (role === undefined)
    throw new UsageError('token: --role is required (device, gateway, dashboard or service)');
  if (sub === undefined) throw new UsageError('token: --sub is required (the device or user id)');
  const ids = str('subdevices')
    ?.split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  const pattern = str('subdevice-pattern');
  return {
    name,
    role,
    sub,
    ttl: str('ttl') ?? '1h',
    ...(ids === undefined && pattern === undefined
      ? {}
      : { subdevices: { ...optional('ids', ids), ...optional('pattern', pattern) } }),
    ...optional('tenant', str('tenant')),
    ...optional('data', str('data')),
  };
}
