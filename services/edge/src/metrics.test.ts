import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { closeCodeLabel } from './metrics.js';
import { TestClient, mintToken, startTestEdge, valueOf, type TestEdge } from './test-support.js';

let edge: TestEdge;
beforeAll(async () => {
  edge = await startTestEdge();
});
afterAll(() => edge.close());

it('labels close codes: the standard and 4000–4099 ones as they are, a client’s own as other', () => {
  expect([1000, 1006, 1015, 4001, 4099].map(closeCodeLabel)).toEqual([
    '1000',
    '1006',
    '1015',
    '4001',
    '4099',
  ]);
  expect([999, 1016, 3000, 3999, 4100, 4999].map(closeCodeLabel)).toEqual(Array(6).fill('other'));
});

it('a client closing with a code of its own is counted under other', async () => {
  const other = (): Promise<number> =>
    valueOf(edge.metrics.disconnects, { code: 'other', transport: 'ws' });
  const before = await other();
  // uWS passes on what a client sends in 4000–4999 (it cuts 3000–3999 as invalid: 1006).
  for (const code of [4100, 4321, 4999]) {
    const client = await TestClient.open(edge.url, mintToken({ sub: `c${code}`, role: 'device' }));
    client.ws.close(code);
    await client.closed;
  }
  await waitFor('three closes counted', async () => (await other()) === before + 3);
});
