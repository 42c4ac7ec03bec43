import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError, stopOnSignals, type Env } from '@fleetwire/config';
import { EDGE_LISTEN_FAILED, loadUws } from '@fleetwire/edge';
import { pino } from 'pino';

import { startBanner } from './banner.js';
import { USAGE, UsageError, parseCommand, type Command } from './cli.js';
import { dataDirOf, loadEmbeddedConfig } from './config.js';
import { EmbeddedFleetwire } from './embedded.js';
import { UnreachableError, probeEdge } from './reach.js';
import { NoKeyError, keptSecret, readKeptSecret } from './secret.js';
import { formatSummary, simulate } from './simulate.js';
import { TokenRequestError, mintToken, tokenClaims } from './token.js';

/** The dashboard package's build, used when FLEETWIRE_DASHBOARD_DIR is unset and it exists. */
const BUILT_DASHBOARD = fileURLToPath(
  new URL('../../../packages/dashboard/dist/site', import.meta.url),
);

/** How the user ran us, for hints: the bin passes its path; else the plain command name. */
function cliName(env: Env): string {
  return env['FLEETWIRE_CLI'] || 'fleetwire';
}

function hostForUrls(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A path as the user would type it: relative when below the working directory. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function envSecret(env: Env): string | undefined {
  const secret = env['FLEETWIRE_JWT_HS256_SECRET'];
  return secret === undefined || secret === '' ? undefined : secret;
}

function token(command: Extract<Command, { name: 'token' }>, env: Env): void {
  const dataDir = dataDirOf(env, process.cwd(), command.data);
  const config = loadEmbeddedConfig(env, { dataDir, secret: undefined, dashboardDir: undefined });
  const request = {
    role: command.role,
    sub: command.sub,
    tenant: command.tenant ?? config.tenant,
    ttl: command.ttl,
    ...(command.subdevices === undefined ? {} : { subdevices: command.subdevices }),
  };
  // A wrong request is reported before a missing key: it is the thing to fix first.
  tokenClaims(request);
  const secret = envSecret(env) ?? readKeptSecret(dataDir);
  if (secret === undefined) throw new NoKeyError(dataDir);
  const jwt = mintToken(
    { secret, issuer: config.edge.auth.issuer, audience: config.edge.auth.audience },
    request,
  );
  process.stdout.write(`${jwt}\n`);
}

/** Simulated devices against any edge, with tokens from the local key. */
async function runSimulation(
  command: Extract<Command, { name: 'simulate' }>,
  env: Env,
): Promise<void> {
  const dataDir = dataDirOf(env, process.cwd(), command.data);
  const config = loadEmbeddedConfig(env, { dataDir, secret: undefined, dashboardDir: undefined });
  const secret = envSecret(env) ?? readKeptSecret(dataDir);
  if (secret === undefined) throw new NoKeyError(dataDir);
  const key = { secret, issuer: config.edge.auth.issuer, audience: config.edge.auth.audience };
  const tenant = command.tenant ?? config.tenant;
  // The server `fleetwire start` would run with the same environment (FLEETWIRE_PORT, _HOST).
  if (command.url === undefined && config.edge.port === 0) {
    throw new UsageError(
      'simulate: FLEETWIRE_PORT=0 names no server: give --url ws://host:port/ws',
    );
  }
  const url = command.url ?? `ws://${hostForUrls(config.edge.host)}:${config.edge.port}/ws`;
  const devices = Array.from({ length: command.devices }, (_, i) => `${command.prefix}-${i + 1}`);
  const tokenFor = (deviceId: string): string =>
    mintToken(key, { role: 'device', sub: deviceId, tenant, ttl: '1d' });
  const gateways = {
    ids: Array.from({ length: command.gateways }, (_, i) => `${command.prefix}-gw-${i + 1}`),
    perGateway: command.perGateway,
    tokenFor: (gatewayId: string, ids: string[]): string =>
      mintToken(key, { role: 'gateway', sub: gatewayId, tenant, ttl: '1d', subdevices: { ids } }),
  };
  // The first simulated connection's own token: a device's, or (gateways only) a gateway's.
  await probeEdge(
    url,
    devices[0] === undefined
      ? gateways.tokenFor(gateways.ids[0]!, [`${gateways.ids[0]}-dev-1`])
      : tokenFor(devices[0]),
  );
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  if (command.seconds > 0) setTimeout(() => stop.abort(), command.seconds * 1000).unref();
  const tty = process.stderr.isTTY;
  let lastPlain = 0;
  process.stderr.write(
    `simulating ${command.devices} devices${
      command.gateways > 0
        ? ` and ${command.gateways} gateways × ${command.perGateway} sub-devices`
        : ''
    } × ${command.rate} msg/s against ${url} (Ctrl-C to stop)\n`,
  );
  const summary = await simulate({
    url,
    tokenFor,
    devices,
    gateways,
    ratePerSec: command.rate,
    payloadBytes: command.payload,
    signal: stop.signal,
    onProgress: (progress) => {
      // A live line on a terminal; a line every 5 s in a log.
      if (tty) process.stderr.write(`\r\x1b[2K${formatSummary(progress)}`);
      else if (Date.now() - lastPlain >= 5_000) {
        lastPlain = Date.now();
        process.stderr.write(`${formatSummary(progress)}\n`);
      }
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(`summary: ${formatSummary(summary)}\n`);
  process.exit(summary.errors > 0 ? 1 : 0);
}

async function start(command: Extract<Command, { name: 'start' }>, env: Env): Promise<void> {
  const dataDir = dataDirOf(env, process.cwd(), command.data);
  const secret = envSecret(env) ?? keptSecret(dataDir).secret;
  const dashboardDir = existsSync(`${BUILT_DASHBOARD}/index.html`) ? BUILT_DASHBOARD : undefined;
  const config = loadEmbeddedConfig(env, { dataDir, secret, dashboardDir });
  const logger = pino({
    level: config.edge.logLevel,
    base: { service: 'fleetwire', node: config.edge.nodeId },
  });
  if (config.ignored.length > 0) {
    logger.warn(
      { ignored: config.ignored },
      'the embedded mode runs its own bus and log: these are ignored (run services/edge and services/ingest for a cluster)',
    );
  }
  const { uws, native } = loadUws({ allowFallback: config.edge.allowUwsFallback });
  if (!native) logger.warn('running on the slow pure-JS uWebSockets.js fallback (allowed)');

  const fleetwire = await EmbeddedFleetwire.start({ config, uws, logger });
  const baseUrl = `http://${hostForUrls(config.edge.host)}:${fleetwire.port}`;
  // Handled before 'listening' and the banner: a user (or a script) may press Ctrl-C the moment
  // either appears, and a signal with no handler yet would kill the process without stopping it.
  const simulation = new AbortController();
  let simulated: ReturnType<typeof simulate> | undefined;
  stopOnSignals(logger, async () => {
    simulation.abort();
    const summary = await simulated;
    if (summary) logger.info(summary, 'simulation stopped');
    await fleetwire.stop();
  });

  logger.info(
    { port: fleetwire.port, dataDir, dashboardDir: config.edge.dashboardDir },
    'listening',
  );
  const key = { secret, issuer: config.edge.auth.issuer, audience: config.edge.auth.audience };
  process.stdout.write(
    startBanner({
      baseUrl,
      dashboardToken: mintToken(key, {
        role: 'dashboard',
        sub: 'dashboard',
        tenant: config.tenant,
        ttl: config.dashboardTokenTtl,
      }),
      tenant: config.tenant,
      dataDir: shown(dataDir),
      dataOption: dataDir === dataDirOf({}, process.cwd()) ? '' : ` --data ${shown(dataDir)}`,
      dashboardServed: config.edge.dashboardDir !== undefined,
      simulated: command.simulate,
      cli: cliName(env),
    }),
  );

  if (command.simulate > 0) {
    simulated = simulate({
      url: `${baseUrl.replace(/^http/, 'ws')}/ws`,
      tokenFor: (deviceId) =>
        mintToken(key, { role: 'device', sub: deviceId, tenant: config.tenant, ttl: '30d' }),
      devices: Array.from({ length: command.simulate }, (_, i) => `sim-${i + 1}`),
      ratePerSec: 1,
      signal: simulation.signal,
    });
  }
}

/** What to tell the user next, for the failures that have an obvious next step. */
function hintFor(error: Error & { code?: string }, env: Env): string | undefined {
  if (error instanceof UsageError || error instanceof TokenRequestError)
    return `run \`${cliName(env)} help\` for the commands and options`;
  if (error instanceof ConfigError) return 'fix the variables above and run again';
  if (error instanceof UnreachableError) {
    return error.code === 'FLEETWIRE_TOKEN_REFUSED'
      ? 'mint with the key of the server you simulate against: --data <its data dir>, or its FLEETWIRE_JWT_HS256_SECRET'
      : 'is Fleetwire running there? Start it with `npm start`, or point --url (or FLEETWIRE_PORT) at it';
  }
  if (error.code === EDGE_LISTEN_FAILED) {
    return 'another process may hold the port: stop it, or set FLEETWIRE_PORT (0 picks a free one)';
  }
  return undefined;
}

async function main(argv: string[], env: Env): Promise<void> {
  const command = parseCommand(argv);
  if (command.name === 'help') process.stdout.write(`${USAGE}\n`);
  else if (command.name === 'token') token(command, env);
  else if (command.name === 'simulate') await runSimulation(command, env);
  else await start(command, env);
}

main(process.argv.slice(2), process.env).catch((error: unknown) => {
  // One readable message on stderr, with what to do next, and exit 1.
  const err = error as Error & { code?: string };
  const hint = hintFor(err, process.env);
  process.stderr.write(`fleetwire: ${err.message}\n${hint ? `  → ${hint}\n` : ''}`);
  process.exit(1);
});
