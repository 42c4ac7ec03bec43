import type { ConnectionState, FleetwireClient } from '@fleetwire/client';

type Shown = ConnectionState | 'reconnecting' | 'no-token';

/** The SDK's recovery events (history and recovery): present once the SDK emits them. */
interface RecoveryEvents {
  on(event: 'recovered' | 'gap', handler: (detail: unknown) => void): void;
}

function describe(detail: unknown): string {
  if (detail && typeof detail === 'object') {
    const fields = Object.entries(detail as Record<string, unknown>)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
      .map(([k, v]) => `${k} ${String(v)}`);
    if (fields.length > 0) return ` (${fields.join(', ')})`;
  }
  return '';
}

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
    const recovery = client as unknown as RecoveryEvents;
    recovery.on('recovered', (detail) =>
      this.recovery('recovered', `recovered${describe(detail)}`),
    );
    recovery.on('gap', (detail) =>
      this.recovery('gap', `gap: some messages were missed${describe(detail)}`),
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
