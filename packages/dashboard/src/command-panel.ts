import type { FleetwireClient } from '@fleetwire/client';

/**
 * Commands to the selected device: the drive buttons and a custom name/params form, each logged
 * with its outcome (ack with the round trip and result, or the nack's reason).
 */
export class CommandPanel {
  constructor(
    private readonly root: HTMLElement,
    private readonly client: FleetwireClient,
    private readonly target: () => string | undefined,
  ) {
    for (const button of root.querySelectorAll<HTMLButtonElement>('#drive button')) {
      button.addEventListener('click', () => void this.send(button.dataset['command'] as string));
    }
    (root.querySelector('#custom-command') as HTMLFormElement).addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        const form = new FormData(event.target as HTMLFormElement);
        const raw = String(form.get('params') ?? '').trim();
        let params: unknown;
        try {
          params = raw ? JSON.parse(raw) : undefined;
        } catch {
          this.log('params must be JSON', 'nack');
          return;
        }
        void this.send(String(form.get('name')), params);
      },
    );
  }

  private log(text: string, outcome: 'pending' | 'ack' | 'nack'): HTMLLIElement {
    const list = this.root.querySelector('#command-log') as HTMLOListElement;
    const item = document.createElement('li');
    item.dataset['outcome'] = outcome;
    item.textContent = text;
    list.prepend(item);
    while (list.children.length > 20) list.lastElementChild?.remove();
    return item;
  }

  private async send(name: string, params?: unknown): Promise<void> {
    const target = this.target();
    if (!target) {
      this.log(`${name}: select a device first`, 'nack');
      return;
    }
    const entry = this.log(`${name} → ${target}…`, 'pending');
    const started = performance.now();
    try {
      const result = await this.client.command(target, name, params, { timeoutMs: 5_000 });
      const rtt = Math.round(performance.now() - started);
      entry.dataset['outcome'] = 'ack';
      entry.textContent = `${name} → ${target}: ack in ${rtt} ms${result === undefined ? '' : ` ${JSON.stringify(result)}`}`;
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? (error as Error).message;
      entry.dataset['outcome'] = 'nack';
      entry.textContent = `${name} → ${target}: nack ${reason}`;
    }
  }
}
