import WebSocket from 'ws';

/** The edge a command was pointed at cannot be used: not listening, or refusing our tokens. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly code: 'FLEETWIRE_UNREACHABLE' | 'FLEETWIRE_TOKEN_REFUSED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Connects once as one of the devices and leaves, so `simulate` can say at once that nothing
 * listens at the URL (or that the server refuses the tokens), instead of counting zeros while its
 * devices retry for ever. Resolves once the edge welcomed the device and the probe closed.
 */
export function probeEdge(url: string, token: string, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['fleetwire.v1', `bearer.${token}`]);
    const fail = (error: UnreachableError): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new UnreachableError(
            'FLEETWIRE_UNREACHABLE',
            `cannot reach the server at ${url}: no welcome within ${timeoutMs / 1000} s`,
          ),
        ),
      timeoutMs,
    );
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        let why = `HTTP ${response.statusCode}`;
        try {
          const error = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
          if (error?.code) why += ` ${error.code}${error.message ? ` (${error.message})` : ''}`;
        } catch {
          // Not a Fleetwire answer: the status says enough.
        }
        const refused = response.statusCode === 401 || response.statusCode === 403;
        fail(
          refused
            ? new UnreachableError(
                'FLEETWIRE_TOKEN_REFUSED',
                `the server at ${url} refused the device token: ${why}`,
              )
            : new UnreachableError(
                'FLEETWIRE_UNREACHABLE',
                `the server at ${url} did not accept a WebSocket: ${why}`,
              ),
        );
      });
    });
    ws.on('error', (error) =>
      fail(
        new UnreachableError(
          'FLEETWIRE_UNREACHABLE',
          `cannot reach the server at ${url}: ${error.message}`,
        ),
      ),
    );
    ws.on('message', () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.once('close', () => resolve());
      ws.close();
    });
  });
}
