import { TelemetryStore, createPgliteClient, migrate, type SqlClient } from '@fleetwire/store';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { mintToken, startTestApi, type TestApi } from './test-support.js';

/**
 * A real PGlite whose reads wait until released, so requests stay in progress for as long as a
 * test needs: `reached(n)` resolves once n statements wait.
 */
function heldReads(client: SqlClient) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = 0;
  const watchers: { n: number; resolve: () => void }[] = [];
  const held: SqlClient = {
    ...client,
    async query(text, params) {
      if (/^\s*select/i.test(text)) {
        waiting += 1;
        for (const w of watchers.filter((w) => waiting >= w.n)) w.resolve();
        await released;
      }
      return client.query(text, params);
    },
    exec: (sql) => client.exec(sql),
    transaction: (fn) => client.transaction(fn),
    close: () => client.close(),
  };
  const reached = (n: number) =>
    waiting >= n
      ? Promise.resolve()
      : new Promise<void>((resolve) => watchers.push({ n, resolve }));
  return { held, reached, release };
}

const range = `from=${Date.UTC(2024, 4, 1)}&to=${Date.UTC(2024, 4, 2)}`;
const ui = mintToken({ sub: 'ui', role: 'dashboard', tenant: 'acme' });
const other = mintToken({ sub: 'ops', role: 'dashboard', tenant: 'acme' });

let client: SqlClient;
let gate: ReturnType<typeof heldReads>;
let api: TestApi;

beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  gate = heldReads(client);
  api = await startTestApi(new TelemetryStore(gate.held), {
    FLEETWIRE_TENANTS: 'acme',
    FLEETWIRE_API_MAX_IN_FLIGHT: '2',
  });
}, 60_000);
afterAll(async () => {
  gate?.release();
  await api?.close();
  await client?.close();
});

it("one token's requests beyond FLEETWIRE_API_MAX_IN_FLIGHT are answered 429 at once; others' are not", async () => {
  const first = [1, 2].map(() => api.get(`/v1/devices/d1/telemetry?${range}`, ui));
  await gate.reached(2);
  // The same token: refused without touching the store.
  const refused = await api.get(`/v1/devices/d1/series?${range}&bucket=1h&field=v`, ui);
  expect(refused).toEqual({
    status: 429,
    body: {
      error: {
        code: 'too_many_requests',
        message: 'this token has 2 requests in progress; wait for one to finish',
      },
    },
  });
  // Another token of the same tenant has its own allowance.
  const another = api.get('/v1/latest', other);
  await gate.reached(3);
  gate.release();
  for (const answer of await Promise.all([...first, another])) expect(answer.status).toBe(200);
  // Its requests done, the token may read again.
  expect((await api.get(`/v1/devices/d1/telemetry?${range}`, ui)).status).toBe(200);
  const counted = await api.metrics.apiRequests.get();
  expect(counted.values.find((v) => v.labels.status === '429')?.value).toBe(1);
}, 60_000);
