import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server, for outage tests: while `down`, every connection through it
 * is cut and new ones are reset at once, as when the server crashed or the network failed.
 */
export class TcpProxy {
  private constructor(
    private readonly server: Server,
    private readonly state: { up: boolean; sockets: Set<Socket> },
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const state = { up: true, sockets: new Set<Socket>() };
    const server = createServer((client) => {
      if (!state.up) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        state.sockets.add(socket);
        socket.once('close', () => state.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, state, (server.address() as AddressInfo).port);
  }

  /** `url` (postgres://host:port/db) with host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Cuts every connection and refuses new ones until `up`. */
  down(): void {
    this.state.up = false;
    for (const socket of this.state.sockets) socket.destroy();
  }

  up(): void {
    this.state.up = true;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
