/**
 * One client process of the peer benchmark (forked by clients.ts): it opens sockets from one
 * source address, runs one task and reports over IPC. A process holds at most ~15k sockets
 * (20,000 open files here), so the workloads spread their sockets over several of these.
 */
import { MARKER, PROTOCOLS, token, type ClientProtocol } from './protocols.js';
import type { Task, WorkerReport } from './tasks.js';
import { WireSocket, countMarker } from './wire.js';

const marker = Buffer.from(MARKER);
const now = (): number => performance.timeOrigin + performance.now();
const report = (message: WorkerReport): void => void process.send?.(message);

interface Session {
  socket: WireSocket;
  ready: Promise<void>;
  subscribed: Promise<void>;
}

/** Opens one session; deliveries are counted (and timed, with `latencies`) from the start. */
function open(
  task: Pick<Task, 'host' | 'port' | 'localAddress' | 'role' | 'topic'>,
  protocol: ClientProtocol,
  jwt: string,
  onDeliveries: (count: number, frame: Buffer) => void,
): Session {
  let ready!: () => void;
  let subscribed!: () => void;
  let notReady!: (error: Error) => void;
  let notSubscribed!: (error: Error) => void;
  const readyP = new Promise<void>((resolve, reject) => {
    ready = resolve;
    notReady = reject;
  });
  const subscribedP = new Promise<void>((resolve, reject) => {
    subscribed = resolve;
    notSubscribed = reject;
  });
  const refused = (error: Error): void => {
    notReady(error);
    notSubscribed(error);
  };
  let phase: 'open' | 'subscribing' | 'on' = 'open';
  const socket = new WireSocket({
    host: task.host,
    port: task.port,
    path: protocol.path(jwt),
    headers: protocol.headers(jwt),
    localAddress: task.localAddress,
    onFrame: (payload) => {
      if (phase === 'on') {
        const count = countMarker(payload, marker);
        if (count > 0) return onDeliveries(count, payload);
      }
      const frame = payload.toString();
      if (phase !== 'open') socket.onText?.(frame);
      const answer = protocol.answer(frame, jwt);
      if (answer !== undefined) socket.send(answer);
      if (phase === 'open' && protocol.isReady(frame)) {
        ready();
        if (task.topic === undefined) {
          phase = 'on';
          return;
        }
        phase = 'subscribing';
        socket.send(protocol.subscribe(task.topic));
      } else if (phase === 'subscribing' && protocol.isSubscribed(frame)) {
        phase = 'on';
        subscribed();
      }
    },
    onClose: () => {
      if (phase !== 'on') refused(new Error(`closed in phase ${phase}`));
    },
  });
  socket.ready.then(
    () => {
      const hello = protocol.hello(jwt);
      if (hello !== undefined) socket.send(hello);
    },
    (error: Error) => refused(error),
  );
  subscribedP.catch(() => undefined);
  return { socket, ready: readyP, subscribed: subscribedP };
}

/** Runs `count` jobs with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await job(next++);
  });
  await Promise.all(lanes);
}

async function connectTask(task: Extract<Task, { kind: 'connect' }>): Promise<void> {
  const protocol = PROTOCOLS[task.protocol];
  const sessions: Session[] = [];
  let delivered = 0;
  let lastAt = 0;
  const latencies: number[] = [];
  const onDeliveries = (count: number, frame: Buffer): void => {
    delivered += count;
    lastAt = now();
    if (task.latency) {
      // `"t":<ms>` follows the marker in the publish data of every server.
      const text = frame.toString();
      for (const match of text.matchAll(/"t":([0-9.]+)/g)) {
        latencies.push(lastAt - Number(match[1]));
      }
    }
    if (delivered === task.expect) report({ kind: 'delivered', delivered, lastAt });
  };
  let failed = 0;
  // Tokens are minted before the clock starts: signing is the client's cost, not the server's.
  const tokens = Array.from({ length: task.count }, (_, i) =>
    token(`${task.subPrefix}-${i}`, task.role),
  );
  const startedAt = now();
  await pool(task.count, task.concurrency, async (i) => {
    const session = open(task, protocol, tokens[i]!, onDeliveries);
    sessions.push(session);
    try {
      await session.ready;
      if (task.topic !== undefined) await session.subscribed;
    } catch {
      failed += 1;
    }
  });
  report({ kind: 'connected', ok: task.count - failed, failed, startedAt, endedAt: now() });
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'stats') {
      report({ kind: 'stats', delivered, lastAt, latencies: latencies.splice(0) });
    } else if (message.kind === 'close') {
      for (const session of sessions) session.socket.close();
      report({ kind: 'closed' });
    }
  });
}

async function publishTask(task: Extract<Task, { kind: 'publish' }>): Promise<void> {
  const protocol = PROTOCOLS[task.protocol];
  const { topic: _topic, ...unsubscribed } = task;
  const session = open(unsubscribed, protocol, token(task.sub, task.role), () => undefined);
  await session.ready;
  report({ kind: 'connected', ok: 1, failed: 0, startedAt: now(), endedAt: now() });
  await new Promise<void>((resolve) =>
    process.once('message', (m: { kind: string }) => m.kind === 'go' && resolve()),
  );
  const frame = (seq: number): string =>
    protocol.publish(task.topic, `{"m":"${MARKER}","seq":${seq},"t":${now().toFixed(3)}}`, seq);
  const startedAt = now();
  if (task.ratePerSec === undefined) {
    for (let seq = 0; seq < task.messages; seq++) session.socket.send(frame(seq));
  } else {
    // A fixed offered rate: a tick every 10 ms sends what is due by then.
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(
          task.messages,
          Math.floor(((now() - startedAt) / 1000) * task.ratePerSec!),
        );
        while (sent < due) session.socket.send(frame(sent++));
        if (sent >= task.messages) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
  }
  report({ kind: 'published', startedAt, endedAt: now() });
  process.once('message', () => session.socket.close());
}

/** Telemetry with ids at a fixed total rate over the devices, until every one is answered. */
async function telemetryTask(task: Extract<Task, { kind: 'telemetry' }>): Promise<void> {
  const protocol = PROTOCOLS[task.protocol];
  let acked = 0;
  let nacked = 0;
  let sent = 0;
  let lastAnswerAt = 0;
  const sessions = Array.from({ length: task.devices }, (_, i) => {
    const jwt = token(`${task.subPrefix}-${i}`, 'device');
    const session = open(task, protocol, jwt, () => undefined);
    session.socket.onText = (frame) => {
      if (frame.includes('"type":"ack"')) acked += 1;
      else if (frame.includes('"type":"nack"')) nacked += 1;
      else return;
      lastAnswerAt = now();
    };
    return session;
  });
  await Promise.all(sessions.map((s) => s.ready));
  report({ kind: 'connected', ok: task.devices, failed: 0, startedAt: now(), endedAt: now() });
  await new Promise<void>((resolve) =>
    process.once('message', (m: { kind: string }) => m.kind === 'go' && resolve()),
  );
  const total = task.ratePerSec * task.seconds;
  const startedAt = now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * task.ratePerSec));
      while (sent < due) {
        const session = sessions[sent % sessions.length]!;
        session.socket.send(
          `{"type":"telemetry","id":"${task.subPrefix}-${sent}","data":{"seq":${sent},"v":21.5}}`,
        );
        sent += 1;
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const deadline = now() + 15_000;
  while (acked + nacked < sent && now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  report({ kind: 'answered', sent, acked, nacked, elapsedMs: lastAnswerAt - startedAt });
  for (const session of sessions) session.socket.close();
}

process.once('message', (task: Task) => {
  const run =
    task.kind === 'connect'
      ? connectTask(task)
      : task.kind === 'publish'
        ? publishTask(task)
        : telemetryTask(task);
  run.catch((error: unknown) => {
    report({ kind: 'error', message: String(error) });
    process.exit(1);
  });
});
