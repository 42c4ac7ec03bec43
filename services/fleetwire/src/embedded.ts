import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { MemoryBusHub, MemoryPresence, type MemoryBus } from '@fleetwire/bus';
import { EdgeMetrics, EdgeServer, type Uws } from '@fleetwire/edge';
import { BatchWriter, IngestMetrics, PartitionMaintenance, ReadApi } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import { TelemetryStore, migrate, openSqlClient, type SqlClient } from '@fleetwire/store';
import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

import type { EmbeddedConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { fileDeadLetterQueue } from './dead-letter-file.js';
import { LogIngest } from './log-ingest.js';
import { StoredTelemetrySink } from './stored-telemetry-sink.js';
import { mountReadApi } from './read-api-routes.js';

export const DEAD_LETTER_FILE = 'dead-letters.jsonl';

export interface EmbeddedDeps {
  config: EmbeddedConfig;
  uws: Uws;
  logger: Logger;
}

/**
 * Fleetwire in one process, from the cluster's own parts: the edge server on the in-memory bus
 * and presence, telemetry into an in-process log, the ingest worker's BatchWriter moving it from
 * the log into PGlite, and the ingest worker's read API on the edge's port.
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
    private readonly release: () => void,
    readonly port: number,
  ) {}

  static async start(deps: EmbeddedDeps): Promise<EmbeddedFleetwire> {
    const { config, uws, logger } = deps;
    mkdirSync(config.dataDir, { recursive: true });
    const release = lockDataDir(config.dataDir);
    let client: SqlClient | undefined;
    try {
      client = await openSqlClient(config.ingest.store.databaseUrl);
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

      const verifier = new TokenVerifier(loadVerificationKeys(config.edge.auth), config.edge.auth);
      const log = new MemoryTelemetryLog();
      const dlq = fileDeadLetterQueue(join(config.dataDir, DEAD_LETTER_FILE), ingestMetrics);
      const ingest = new LogIngest({
        log,
        writer: new BatchWriter({ store, dlq, metrics: ingestMetrics, logger: ingestLogger }),
        dlq,
        logger: ingestLogger,
        maxRows: config.batchMaxRows,
        maxRecordBytes: config.maxRecordBytes,
        maxFutureSkewMs: config.maxFutureSkewMs,
        retentionDays: config.ingest.store.retentionDays,
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
        presence: new MemoryPresence(config.edge.presenceTtlMs),
        telemetrySink: new StoredTelemetrySink(log, ingest),
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
        release,
        port,
      );
    } catch (error) {
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
   * into PGlite, closes PGlite and releases the data dir. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { logger } = this.deps;
    await this.server.drain();
    await this.log.close();
    await this.ingest.drain();
    logger.info({ records: this.ingest.position }, 'telemetry log written to the store');
    await this.maintenance.stop();
    await this.bus.close();
    await this.client.close();
    this.release();
    logger.info('stopped');
  }
}
