// Fleetwire under a fleet: three k6 scenarios over wss through the load balancer.
//   devices     ramp to DEVICES connections (JWT each), publish telemetry at RATE_PER_DEVICE/s,
//               measure telemetry acks (the edge acks after Kafka did), answer commands;
//   dashboards  DASHBOARDS sockets subscribed to devices/+/telemetry (wildcard), measuring
//               publish → deliver latency and counting deliveries;
//   commands    COMMANDERS dashboards sending commands to random devices, measuring the
//               round trip dashboard → edge → device → edge → dashboard.
// Run it with run.sh (starts the local cluster) or: k6 run -e FLEETWIRE_URL=… fleet.js
/* global __ENV, console */
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';

import { config } from './lib/config.js';
import { mintToken } from './lib/token.js';

const connected = new Rate('fleetwire_connect_ok');
const telemetrySent = new Counter('fleetwire_telemetry_sent');
const telemetryAcked = new Counter('fleetwire_telemetry_acked');
const telemetryNacked = new Counter('fleetwire_telemetry_nacked');
const telemetryUnacked = new Counter('fleetwire_telemetry_unacked_at_close');
const ackLatency = new Trend('fleetwire_telemetry_ack_ms', true);
const delivered = new Counter('fleetwire_dashboard_deliveries');
const deliverLatency = new Trend('fleetwire_deliver_ms', true);
const commandOk = new Rate('fleetwire_command_ok');
const commandRtt = new Trend('fleetwire_command_rtt_ms', true);
const commandsAnswered = new Counter('fleetwire_commands_answered');

const testSec = config.rampSec + config.holdSec;

export const options = {
  // The local cluster's certificate is self-signed (k6 takes no custom CA).
  insecureSkipTLSVerify: __ENV.INSECURE_TLS !== 'false',
  scenarios: {
    devices: {
      executor: 'ramping-vus',
      exec: 'device',
      startVUs: 0,
      stages: [
        { duration: `${config.rampSec}s`, target: config.devices },
        { duration: `${config.holdSec}s`, target: config.devices },
      ],
      gracefulRampDown: '5s',
      gracefulStop: '10s',
    },
    // One iteration per VU holding its socket: a constant-vus loop would open a second one late.
    dashboards: {
      executor: 'per-vu-iterations',
      exec: 'dashboard',
      vus: config.dashboards,
      iterations: 1,
      maxDuration: `${testSec + 10}s`,
    },
    // Once the fleet is up, and done before the devices leave: every target is connected.
    commands: {
      executor: 'per-vu-iterations',
      exec: 'commander',
      vus: config.commanders,
      iterations: 1,
      startTime: `${config.rampSec + 5}s`,
      maxDuration: `${Math.max(config.holdSec - 5, 10)}s`,
    },
  },
  thresholds: {
    fleetwire_connect_ok: ['rate>0.99'],
    fleetwire_telemetry_ack_ms: ['p(95)<250', 'p(99)<1000'],
    fleetwire_telemetry_nacked: ['count<1'],
    fleetwire_deliver_ms: ['p(95)<250', 'p(99)<1000'],
    fleetwire_command_ok: ['rate>0.99'],
    fleetwire_command_rtt_ms: ['p(95)<250', 'p(99)<1000'],
    ws_connecting: ['p(95)<1000'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

/** Milliseconds left until the end of the test's busy phase. */
function remainingMs() {
  return exec.scenario.startTime + testSec * 1000 - Date.now();
}

function open(sub, role, onMessage, onWelcome) {
  const token = mintToken(
    config.secret,
    { sub, role, tenant: config.tenant },
    { issuer: config.issuer, audience: config.audience },
  );
  const ws = new WebSocket(config.url, null, { headers: { Authorization: `Bearer ${token}` } });
  let welcomed = false;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'welcome') {
      welcomed = true;
      connected.add(1);
      onWelcome(ws);
    } else onMessage(ws, message);
  };
  ws.onclose = () => {
    if (!welcomed) connected.add(0);
  };
  ws.onerror = () => {
    if (!welcomed) connected.add(0);
  };
  return ws;
}

export function device() {
  const left = remainingMs();
  // The busy phase is over: wait for the scenario to stop rather than spin through iterations.
  if (left < 2000) return sleep(Math.max(left, 0) / 1000 + 1);
  // One long iteration per VU: its first iteration number in the scenario is a stable index.
  const id = `dev-${exec.scenario.iterationInTest % config.devices}`;
  const pending = new Map();
  let seq = 0;
  let timer;
  const ws = open(
    id,
    'device',
    (socket, message) => {
      if (message.type === 'ack' && pending.has(message.id)) {
        ackLatency.add(Date.now() - pending.get(message.id));
        telemetryAcked.add(1);
        pending.delete(message.id);
      } else if (message.type === 'nack' && pending.has(message.id)) {
        telemetryNacked.add(1);
        pending.delete(message.id);
      } else if (message.type === 'command') {
        socket.send(JSON.stringify({ type: 'ack', id: message.id, result: { ok: true } }));
        commandsAnswered.add(1);
      }
    },
    (socket) => {
      // Spread the devices' sends over the interval instead of all at the same instant.
      const period = 1000 / config.ratePerDevice;
      setTimeout(() => {
        timer = setInterval(() => {
          const mid = `${id}-${exec.vu.iterationInScenario}-${++seq}`;
          const now = Date.now();
          pending.set(mid, now);
          socket.send(
            JSON.stringify({
              type: 'telemetry',
              id: mid,
              data: { temp: 20 + (seq % 10), sentAt: now },
            }),
          );
          telemetrySent.add(1);
        }, period);
      }, Math.random() * period);
    },
  );
  setTimeout(() => {
    clearInterval(timer);
    // Acks still in flight get two seconds; what is left is counted, not waited for.
    setTimeout(() => {
      telemetryUnacked.add(pending.size);
      ws.close();
    }, 2000);
  }, left - 2000);
}

export function dashboard() {
  const left = remainingMs();
  if (left < 2000) return sleep(Math.max(left, 0) / 1000 + 1);
  const ws = open(
    `k6-dashboard-${exec.vu.idInTest}`,
    'dashboard',
    (_socket, message) => {
      if (message.type === 'message' && message.kind === 'telemetry') {
        delivered.add(1);
        if (message.data && message.data.sentAt)
          deliverLatency.add(Date.now() - message.data.sentAt);
      }
    },
    (socket) => {
      socket.send(JSON.stringify({ type: 'subscribe', id: 's1', topics: ['devices/+/telemetry'] }));
    },
  );
  setTimeout(() => ws.close(), left);
}

export function commander() {
  const pending = new Map();
  let seq = 0;
  let timer;
  const runMs = Math.max((config.holdSec - 10) * 1000, 5000) - 2000;
  const ws = open(
    `k6-commander-${exec.vu.idInTest}`,
    'dashboard',
    (_socket, message) => {
      if ((message.type === 'ack' || message.type === 'nack') && pending.has(message.id)) {
        commandRtt.add(Date.now() - pending.get(message.id));
        commandOk.add(message.type === 'ack', {
          outcome: message.type === 'ack' ? 'ack' : message.reason,
        });
        if (message.type === 'nack' && __ENV.DEBUG) console.log(JSON.stringify(message));
        pending.delete(message.id);
      }
    },
    (socket) => {
      timer = setInterval(() => {
        const id = `c-${exec.vu.idInTest}-${++seq}`;
        const target = `dev-${Math.floor(Math.random() * config.devices)}`;
        pending.set(id, Date.now());
        socket.send(JSON.stringify({ type: 'command', id, target, name: 'ping', timeoutMs: 5000 }));
      }, 1000 / config.commandRate);
    },
  );
  setTimeout(() => {
    clearInterval(timer);
    setTimeout(() => {
      // Commands never answered count as failures.
      for (let i = 0; i < pending.size; i++) commandOk.add(false);
      ws.close();
    }, 1500);
  }, runMs);
}
