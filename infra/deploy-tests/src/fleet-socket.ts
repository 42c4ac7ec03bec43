import WebSocket from 'ws';

/** A server message, as JSON (the connections here use the default JSON format). */
export type ServerMessage = { type: string } & Record<string, unknown>;

export interface FleetSocketOptions {
  url: string;
  token: string;
  /** PEM the server certificate must chain to (HAProxy's self-signed one). */
  ca: string;
}

interface Waiter {
  match: (message: ServerMessage) => boolean;
  resolve: (message: ServerMessage) => void;
}

/**
 * One JSON WebSocket to the cluster with every received message kept, so a test can wait for
 * the first message that matches (already received or still to come).
 */
export class FleetSocket {
  readonly received: ServerMessage[] = [];
  readonly welcome: Promise<ServerMessage>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly ws: WebSocket;
  private waiters: Waiter[] = [];
  private readonly handlers: ((message: ServerMessage) => void)[] = [];

  constructor(options: FleetSocketOptions) {
    this.ws = new WebSocket(options.url, {
      ca: options.ca,
      headers: { Authorization: `Bearer ${options.token}` },
      handshakeTimeout: 5_000,
      perMessageDeflate: false,
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.ws.on('message', (data: Buffer) => this.dispatch(JSON.parse(data.toString())));
    const welcome = this.waitFor((m) => m.type === 'welcome');
    // Errors are followed by 'close'; keeping a listener stops them from being thrown.
    let lastError: Error | undefined;
    this.ws.on('error', (error) => (lastError = error));
    this.welcome = new Promise((resolve, reject) => {
      this.ws.once('close', (code) =>
        reject(new Error(`closed with ${code} before welcome: ${lastError?.message ?? ''}`)),
      );
      void welcome.then(resolve);
    });
    this.welcome.catch(() => undefined);
  }

  /** The first message that matches, received already or when it arrives. */
  waitFor(match: (message: ServerMessage) => boolean): Promise<ServerMessage> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Calls `handler` with every message from now on. */
  onMessage(handler: (message: ServerMessage) => void): void {
    this.handlers.push(handler);
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends a message with an id and resolves with the server's ack/nack/error for it. */
  async request(message: { id: string } & Record<string, unknown>): Promise<ServerMessage> {
    const answer = this.waitFor(
      (m) =>
        ((m.type === 'ack' || m.type === 'nack') && m['id'] === message.id) ||
        (m.type === 'error' && m['ref'] === message.id),
    );
    this.send(message);
    return answer;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close(1000);
    await this.closed;
  }

  private dispatch(message: ServerMessage): void {
    this.received.push(message);
    const matched = this.waiters.filter((w) => w.match(message));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    for (const waiter of matched) waiter.resolve(message);
    for (const handler of this.handlers) handler(message);
  }
}
