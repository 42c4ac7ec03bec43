import type { ClientChannel } from './channel.js';
import type { DeviceStream, StreamOptions } from './device-stream.js';
import type { CommandHandler } from './types.js';

/**
 * One sub-device of a gateway connection (`client.subDevice(id)`): what it sends goes out with
 * its `device`, commands addressed to it come to its handlers, and it is attached again after
 * every reconnect. The gateway's token must name it.
 */
export class SubDevice {
  readonly handlers = new Map<string, CommandHandler>();
  /** Resolves once the edge attached it (commands from any node reach it from then on). */
  readonly attached: Promise<void>;
  private detached = false;

  constructor(
    private readonly channel: ClientChannel,
    readonly id: string,
    private readonly streams: (
      options: StreamOptions & { device: string; name: string },
    ) => Promise<DeviceStream>,
    private readonly forget: () => void,
  ) {
    this.attached = channel.request({ type: 'attach', device: id }, false).then(() => undefined);
    // A refusal surfaces through `attached`; the rejection is not unhandled if nobody awaits it.
    this.attached.catch(() => undefined);
  }

  /** Whether it is still this connection's (false after detach(), or once `detached` came). */
  get isAttached(): boolean {
    return !this.detached;
  }

  telemetry(
    data: Record<string, unknown>,
    options: { id?: string; stream?: string; reliable?: boolean } = {},
  ): Promise<void> {
    const frame: Record<string, unknown> = {
      type: 'telemetry',
      device: this.id,
      ts: Date.now(),
      data,
      ...(options.stream ? { stream: options.stream } : {}),
    };
    if (options.id === undefined && !options.reliable) return this.channel.fireAndForget(frame);
    return this.channel
      .request({ ...frame, ...(options.id ? { id: options.id } : {}) }, true)
      .then(() => undefined);
  }

  event(name: string, data: Record<string, unknown> = {}): Promise<void> {
    return this.channel.fireAndForget({ type: 'event', device: this.id, name, data });
  }

  status(data: Record<string, unknown>): Promise<void> {
    return this.channel.fireAndForget({ type: 'status', device: this.id, data });
  }

  /** Handles commands named `name` (or `*`) sent to this sub-device; as client.onCommand. */
  onCommand(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  openStream(name: string, options: StreamOptions = {}): Promise<DeviceStream> {
    return this.streams({ ...options, name, device: this.id });
  }

  /** Says the sub-device left (offline for everyone); it is not attached again. */
  async detach(): Promise<void> {
    if (this.detached) return;
    this.markDetached();
    await this.channel.request({ type: 'detach', device: this.id }, false);
  }

  /** The edge let it go (it connected elsewhere), or detach() did. */
  markDetached(): void {
    this.detached = true;
    this.forget();
  }
}
