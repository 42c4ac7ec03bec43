import type { ConnectionState, FleetwireClient } from '@fleetwire/client';

type Shown = ConnectionState | 'reconnecting' | 'no-token';

const clock = (ms: number): string => new Date(ms).toLocaleTimeString();

/**
 * The page's own connection, as the operator needs it: connecting, connected, reconnecting
 * (it was connected and lost the socket; the SDK is backing off), and after a reconnect whether
 * the missed messages were recovered or there is a gap (the SDK's `recovered` / `gap` events).
 */
export class ConnectionStatus {
  private wasConnected = false;

  constructor(private readonly element: HTMLElement) {}

  watch(client: FleetwireClient): void {
    client.on('state', (state) => this.state(state));
    client.on('recovered', ({ topic, count }) =>
      this.recovery('recovered', `recovered ${count} missed on ${topic}`),
    );
    client.on('gap', ({ topic, from, to, reason }) =>
      this.recovery('gap', `gap on ${topic} ${clock(from)}–${clock(to)} (${reason})`),
    );
  }

  state(state: ConnectionState | 'no-token'): void {
    let shown: Shown = state;
    if (state === 'connected') this.wasConnected = true;
    else if (this.wasConnected && (state === 'connecting' || state === 'disconnected')) {
      shown = 'reconnecting';
      delete this.element.dataset['recovery'];
    }
    this.element.dataset['state'] = shown;
    this.element.textContent =
      shown === 'no-token' ? 'no token: open the link `fleetwire start` printed' : shown;
  }

  private recovery(kind: 'recovered' | 'gap', text: string): void {
    this.element.dataset['recovery'] = kind;
    this.element.textContent = `connected · ${text}`;
  }
}
