import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

type ProxyState = 'up' | 'down' | 'frozen';

/**
 * A TCP proxy in front of a server, for outage tests. `down`: every connection through it is cut
 * and new ones are reset at once, as when the server crashed. `freeze`: connections stay open
 * and new ones are accepted, but no byte crosses in either direction, as when the network
 * drops packets without a reset (a partition, a hung server): only a client's own timeouts
 * notice. `up` again: connections made meanwhile work; the frozen ones are cut (bytes were lost).
 */
export class TcpProxy {
  private state: ProxyState = 'up';
  /** Every open socket, both sides; while frozen, each is silenced. */
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` (redis://host:port, postgres://host:port/db) with host and port the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Cuts every connection and refuses new ones until `up`. */
  down(): void {
    this.state = 'down';
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops every byte, both ways, on every connection, old and new, without closing any. */
  freeze(): void {
    this.state = 'frozen';
    for (const socket of this.sockets) silence(socket);
  }

  up(): void {
    // Every socket open now was silenced by the freeze, or accepted during it.
    if (this.state === 'frozen') for (const socket of this.sockets) socket.destroy();
    this.state = 'up';
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    if (this.state === 'down') {
      client.destroy();
      return;
    }
    this.track(client);
    if (this.state === 'frozen') {
      // Accepted (the client's connect succeeds) and then silent.
      silence(client);
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }
}

/**
 * The bytes still arriving are read and dropped: nothing reaches the other side, and the
 * sender's writes do not back up (unpipe pauses a socket, so it is resumed).
 */
function silence(socket: Socket): void {
  socket.unpipe();
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
}
