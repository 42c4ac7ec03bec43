/**
 * Counts a server's socket-write syscalls while `body` runs, with `strace -c -f` attached to
 * its processes: the figure that shows whether deliveries are coalesced (one write per delivery
 * or one per batch), independent of the machine's load. strace slows the server down, so this
 * runs separately from the timed runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WRITES = ['sendto', 'sendmsg', 'write', 'writev'];

export async function countWrites<T>(
  pids: number[],
  body: () => Promise<T>,
): Promise<{ result: T; writes: number }> {
  const out = join(mkdtempSync(join(tmpdir(), 'fleetwire-peers-strace-')), 'summary.txt');
  const tracer = spawn(
    'strace',
    [
      '-c',
      '-f',
      '-e',
      `trace=${WRITES.join(',')}`,
      '-o',
      out,
      ...pids.flatMap((p) => ['-p', String(p)]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => tracer.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    tracer.once('error', reject);
    let seen = '';
    tracer.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('attached')) resolve();
    });
    tracer.once('exit', (code) => reject(new Error(`strace exited (${code}): ${seen.trim()}`)));
  });
  try {
    const result = await body();
    return { result, writes: parse(await stopped()) };
  } catch (error) {
    await stopped();
    throw error;
  }

  async function stopped(): Promise<string> {
    tracer.kill('SIGINT');
    await exited;
    return readFileSync(out, 'utf8');
  }
}

/** The calls column of strace -c's summary, summed over the write syscalls. */
function parse(summary: string): number {
  let calls = 0;
  for (const line of summary.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields.at(-1) ?? '';
    if (WRITES.includes(name)) calls += Number(fields[3]);
  }
  return calls;
}
