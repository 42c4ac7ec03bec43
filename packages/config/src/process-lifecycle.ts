/**
 * How every Fleetwire process ends: the first SIGTERM or SIGINT runs its shutdown once (later
 * signals are ignored while it runs), then the process exits 0, or 1 if the shutdown failed.
 */
export interface ShutdownLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export function stopOnSignals(
  logger: ShutdownLogger,
  shutdown: (signal: NodeJS.Signals) => Promise<unknown>,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * A failure before the service could log (bad config, no keys, a broker unreachable at start):
 * one JSON line on stderr in the logs' shape, then exit 1.
 */
export function exitOnStartupFailure(service: string, error: unknown): never {
  const err = error as Error & { code?: string };
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service, code: err.code, msg: err.message })}\n`,
  );
  process.exit(1);
}
