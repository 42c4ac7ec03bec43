import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { createTokenVerifier, type TokenVerifier } from '@fleetwire/auth';
import { MemoryBusHub, MemoryPresence, type MemoryBus } from '@fleetwire/bus';
import { EdgeMetrics, EdgeServer, type Uws } from '@fleetwire/edge';
import { BatchWriter, IngestMetrics, PartitionMaintenance, ReadApi } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import {
  SqlDeviceStateStore,
  TelemetryStore,
  migrate,
  openSqlClient,
  type SqlClient,
} from '@fleetwire/store';
import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

import type { EmbeddedConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { FileDeadLetterSink } from './dead-letter-file.js';
import { LogIngest } from './log-ingest.js';
import { StoredTelemetrySink } from './stored-telemetry-sink.js';
import { mountReadApi } from './read-api-routes.js';

export const DEAD_LETTER_FILE = 'dead-letters.jsonl';

/** After the shutdown deadline: how long the edge, maintenance and PGlite get to close. */
const CLOSE_GRACE_MS = 5_000;

/** Waits for `work` to settle, at most `ms`; whether it settled in time. Never throws. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

export interface EmbeddedDeps {
  config: EmbeddedConfig;
  uws: Uws;
  logger: Logger;
}

/**
 * Fleetwire in one process, from the cluster's own parts: the edge server on the in-memory bus
 * and presence, telemetry into an in-process log, the ingest worker's pipeline (a reader of that
 * log, its BatchWriter, a dead-letter file) moving it into PGlite, and the ingest worker's read
 * API on the edge's port.
 */
export class EmbeddedFleetwire {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly deps: EmbeddedDeps,
    private readonly server: EdgeServer,
    private readonly log: MemoryTelemetryLog,
    private readonly ingest: LogIngest,
    private readonly maintenance: PartitionMaintenance,
    private readonly bus: MemoryBus,
    private readonly client: SqlClient,
    private readonly verifier: TokenVerifier,
    private readonly release: () => void,
    readonly port: number,
  ) {}

  static async start(deps: EmbeddedDeps): Promise<EmbeddedFleetwire> {
    const { config, uws, logger } = deps;
    mkdirSync(config.dataDir, { recursive: true });
    const release = lockDataDir(config.dataDir);
    let client: SqlClient | undefined;
    let verifier: TokenVerifier | undefined;
    try {
      // On a thread of its own: a long read or a big write batch must not hold the sockets.
      client = await openSqlClient(config.ingest.store.databaseUrl, { ownThread: true });
      logger.info({ applied: await migrate(client) }, 'migrations applied');
      const store = new TelemetryStore(client);
      const registry = createRegistry({ service: 'fleetwire', node: config.edge.nodeId });
      const edgeMetrics = new EdgeMetrics(registry);
      const ingestMetrics = new IngestMetrics(registry);
      const ingestLogger = logger.child({ component: 'ingest' });
      const maintenance = new PartitionMaintenance(
        store,
        {
          aheadDays: config.ingest.store.partitionsAheadDays,
          retentionDays: config.ingest.store.retentionDays,
          intervalMs: config.ingest.store.maintenanceIntervalMs,
        },
        ingestMetrics,
        ingestLogger,
      );
      await maintenance.runOnce();

      verifier = await createTokenVerifier(config.edge.auth, {
        logger: logger.child({ component: 'auth' }),
      });
      if (!verifier.ready) {
        logger.warn(verifier.status(), 'starting without the keys of some issuers');
      }
      const log = new MemoryTelemetryLog();
      const dlq = new FileDeadLetterSink(join(config.dataDir, DEAD_LETTER_FILE));
      const ingest = new LogIngest({
        log,
        writer: new BatchWriter({
          store,
          dlq,
          metrics: ingestMetrics,
          logger: ingestLogger,
          stuckAfterMs: config.ingest.writeStuckAfterMs,
        }),
        dlq,
        metrics: ingestMetrics,
        logger: ingestLogger,
        maxRows: config.batchMaxRows,
        maxRecordBytes: config.maxRecordBytes,
        maxFutureSkewMs: config.maxFutureSkewMs,
        retentionDays: config.ingest.store.retentionDays,
        stuckAfterMs: config.ingest.writeStuckAfterMs,
      });
      const api = new ReadApi({ store, verifier, config: config.ingest.api });
      const bus = new MemoryBusHub().connect(config.edge.nodeId);
      const server = new EdgeServer({
        config: config.edge,
        uws,
        verifier,
        metrics: edgeMetrics,
        logger,
        bus,
        presence: new MemoryPresence(config.edge.presenceTtlMs, {
          maxDevicesPerTenant: config.edge.maxDevicesPerTenant,
        }),
        telemetrySink: new StoredTelemetrySink(log, ingest, client),
        // Device state in the same PGlite: the edge reads and writes it, as edges do in a cluster.
        deviceState: new SqlDeviceStateStore(client),
        routes: (app) => mountReadApi(app, { api, metrics: ingestMetrics, logger: ingestLogger }),
      });
      const port = await server.listen();
      ingest.start();
      maintenance.start();
      return new EmbeddedFleetwire(
        deps,
        server,
        log,
        ingest,
        maintenance,
        bus,
        client,
        verifier,
        release,
        port,
      );
    } catch (error) {
      verifier?.close();
      await client?.close().catch(() => undefined);
      release();
      throw error;
    }
  }

  /** Records stored so far (the in-process log's offset the ingest side reached). */
  get stored(): number {
    return this.ingest.position;
  }

  /**
   * Drains the edge (no new connections, every socket closed), writes everything the log holds
   * into PGlite, closes PGlite and releases the data dir. Idempotent. Bounded: past
   * FLEETWIRE_SHUTDOWN_TIMEOUT_MS a write that does not finish is abandoned; its records were
   * never acked (appends resolve only once stored), so the devices still hold them.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { logger, config } = this.deps;
    const timeoutMs = config.ingest.shutdownTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const left = () => deadline - Date.now();
    // The edge's drain waits for the telemetry in hand to be stored: a stuck write must not
    // hold it past the deadline (the ingest's stop below releases it).
    const drained = this.server.drain();
    await settleWithin(drained, left());
    this.verifier.close();
    await this.log.close();
    if (await this.ingest.stop(left(), Math.min(CLOSE_GRACE_MS, timeoutMs))) {
      logger.info({ records: this.ingest.position }, 'telemetry log written to the store');
    } else {
      logger.warn(
        { timeoutMs, records: this.ingest.position },
        'shutdown timed out: records not yet stored were abandoned (never acked)',
      );
    }
    const grace = Math.min(CLOSE_GRACE_MS, timeoutMs);
    await settleWithin(drained, grace);
    await settleWithin(this.maintenance.stop(), grace);
    await this.bus.close();
    // PGlite finishes the statement in hand before it closes; one that never returns is left.
    if (!(await settleWithin(this.client.close(), grace))) {
      logger.warn({ graceMs: grace }, 'the store did not close in time; exiting anyway');
    }
    this.release();
    logger.info('stopped');
  }
}
