import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

import { mintToken, type TokenClaims } from '../../test-support.js';

export interface Received {
  topic: string;
  /** The payload parsed as JSON ('' when empty). */
  data: unknown;
  retain: boolean;
}

/** An mqtt.js client whose received PUBLISHes are queued, so a test awaits them in order. */
export class MqttTestClient {
  private readonly queue: Received[] = [];
  private readonly waiters: ((message: Received) => void)[] = [];
  readonly closed: Promise<void>;

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString();
      const message = {
        topic,
        data: text === '' ? '' : (JSON.parse(text) as unknown),
        retain: packet.retain,
      };
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
  }

  /**
   * Connects to an edge's MQTT path with a token for `claims` as the password (mqtt.js, like
   * MQTT 3.1.1, sends a password only with a username).
   */
  static async connect(
    port: number,
    claims: TokenClaims | undefined,
    options: IClientOptions = {},
  ): Promise<MqttTestClient> {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...(claims
        ? { clientId: claims.sub, username: claims.sub, password: mintToken(claims) }
        : {}),
      ...options,
    });
    return new MqttTestClient(client);
  }

  next(): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Received and not taken yet. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * An UNSUBSCRIBE round trip (always acknowledged, whatever the ACL): every packet the edge sent
   * before its UNSUBACK has arrived once this resolves.
   */
  async roundTrip(): Promise<void> {
    await this.client.unsubscribeAsync(`round-trip/${Math.random()}`);
  }

  /** The reason code of the next DISCONNECT the edge sends. */
  nextDisconnect(): Promise<number | undefined> {
    return new Promise((resolve) =>
      this.client.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
  }

  /** Writes bytes as they are, past mqtt.js's encoder: for packets it would not make. */
  writeRaw(bytes: Buffer): void {
    (this.client as unknown as { stream: { write(b: Buffer): void } }).stream.write(bytes);
  }

  /** Cuts the connection without DISCONNECT, as a crash or network loss does. */
  kill(): void {
    this.client.stream.destroy();
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}
