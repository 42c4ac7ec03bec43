import { describe, expect, it } from 'vitest';

import { Counter, createRegistry } from './index.js';

describe('createRegistry', () => {
  it('labels every series with service and node, and keeps registries apart', async () => {
    const a = createRegistry({ service: 'edge', node: 'a' });
    const b = createRegistry({ service: 'edge', node: 'b' });
    const counter = new Counter({ name: 'test_total', help: 'test', registers: [a] });
    counter.inc(3);
    const text = await a.metrics();
    expect(text).toContain('test_total{service="edge",node="a"} 3');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="edge",node="a"\} /m);
    expect(await b.metrics()).not.toContain('test_total');
  });
});
