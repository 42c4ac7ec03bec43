import { appendFile } from 'node:fs/promises';

import type { DeadLetter, DeadLetterSink } from '@fleetwire/ingest';

/**
 * The embedded dead-letter "topic": one JSON line per refused record in a file of the data dir
 * (`reason`, `message`, `offset`, `key`, and the original record as text). `send` resolves once
 * the lines are appended; the ingest pipeline counts the letters.
 */
export class FileDeadLetterSink implements DeadLetterSink {
  constructor(readonly file: string) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const lines = letters.map(({ source, reason, message }) =>
      JSON.stringify({
        reason,
        message,
        offset: source.offset,
        key: source.key?.toString(),
        record: source.value?.toString(),
      }),
    );
    await appendFile(this.file, `${lines.join('\n')}\n`, { mode: 0o600 });
  }
}
