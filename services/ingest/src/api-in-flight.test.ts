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
const read = `/v1/devices/d1/telemetry?${range}`;
const ui = mintToken({ sub: 'ui', role: 'dashboard', tenant: 'acme' });
const uiService = mintToken({ sub: 'ui', role: 'service', tenant: 'acme' });
const ops = mintToken({ sub: 'ops', role: 'dashboard', tenant: 'acme' });
const globex1 = mintToken({ sub: 'g1', role: 'dashboard', tenant: 'globex' });
const globex2 = mintToken({ sub: 'g2', role: 'dashboard', tenant: 'globex' });

let client: SqlClient;
let gate: ReturnType<typeof heldReads>;
let api: TestApi;

beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  gate = heldReads(client);
  api = await startTestApi(new TelemetryStore(gate.held), {
    FLEETWIRE_TENANTS: 'acme,globex',
    FLEETWIRE_API_MAX_IN_FLIGHT: '2',
    FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT: '3',
    FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL: '4',
  });
}, 60_000);
afterAll(async () => {
  gate?.release();
  await api?.close();
  await client?.close();
});

const refusal = (status: number, code: string, message: string) => ({
  status,
  body: { error: { code, message } },
});

it('requests beyond the in-flight bounds (per token, tenant, in all) are refused at once; the rest run', async () => {
  const held = [api.get(read, ui), api.get(read, ui)];
  await gate.reached(2);
  // The same token: 429, without touching the store.
  expect(await api.get(`/v1/devices/d1/series?${range}&bucket=1h&field=v`, ui)).toEqual(
    refusal(
      429,
      'too_many_requests',
      'this token has 2 requests in progress; wait for one to finish',
    ),
  );
  // A service token with the same sub is another token.
  held.push(api.get('/v1/latest', uiService));
  await gate.reached(3);
  // The tenant has 3 in progress: another of its tokens waits its turn (503, Retry-After).
  expect(await api.get(read, ops)).toEqual(
    refusal(503, 'api_busy', 'this tenant has 3 read requests in progress here; retry shortly'),
  );
  held.push(api.get(read, globex1));
  await gate.reached(4);
  expect(await api.get(read, globex2)).toEqual(
    refusal(503, 'api_busy', '4 read requests are in progress here; retry shortly'),
  );
  gate.release();
  for (const answer of await Promise.all(held)) expect(answer.status).toBe(200);
  // Their requests done, the tokens may read again.
  expect((await api.get(read, ui)).status).toBe(200);
  expect((await api.get(read, globex2)).status).toBe(200);
  const counted = await api.metrics.apiRequests.get();
  const count = (status: string) =>
    counted.values.filter((v) => v.labels.status === status).reduce((n, v) => n + v.value, 0);
  expect([count('429'), count('503')]).toEqual([1, 2]);
}, 60_000);
