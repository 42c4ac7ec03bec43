/**
 * The errors an operator should see: refusals the page itself got (HTTP error contract, WebSocket
 * `error` messages) and what the node counted since the page opened (protocol errors, refused
 * requests and upgrades, nacked telemetry, state conflicts), newest first.
 */
export interface RecentError {
  ts: number;
  source: string;
  code: string;
  message: string;
}

const KEEP = 50;

export class RecentErrors {
  private readonly items: RecentError[] = [];

  constructor(private readonly list: HTMLOListElement) {
    this.render();
  }

  add(source: string, code: string, message: string): void {
    this.items.unshift({ ts: Date.now(), source, code, message });
    this.items.length = Math.min(this.items.length, KEEP);
    this.render();
  }

  get count(): number {
    return this.items.length;
  }

  private render(): void {
    if (this.items.length === 0) {
      const none = document.createElement('li');
      none.className = 'none';
      none.textContent = 'none since the page opened';
      this.list.replaceChildren(none);
      return;
    }
    this.list.replaceChildren(
      ...this.items.slice(0, 12).map((error) => {
        const item = document.createElement('li');
        item.dataset['code'] = error.code;
        item.dataset['source'] = error.source;
        const time = document.createElement('time');
        time.textContent = new Date(error.ts).toLocaleTimeString();
        const code = document.createElement('code');
        code.textContent = error.code;
        item.append(time, ` ${error.source} `, code, ` ${error.message}`);
        return item;
      }),
    );
  }
}
