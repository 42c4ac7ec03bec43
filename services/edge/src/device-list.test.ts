import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, httpGet, mintToken, startTestEdge, type TestEdge } from './test-support.js';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
});

afterAll(() => edge.close());

describe('GET /api/devices', () => {
  it('lists the known devices of the token’s tenant with their presence', async () => {
    const before = Date.now();
    const d2 = await TestClient.open(edge.url, mintToken({ sub: 'd2', role: 'device' }));
    const d1 = await TestClient.open(edge.url, mintToken({ sub: 'd1', role: 'device' }));
    const other = await TestClient.open(
      edge.url,
      mintToken({ sub: 'g1', role: 'device', tenant: 'globex' }),
    );
    await d1.close();

    const answer = await httpGet(
      edge.port,
      '/api/devices',
      mintToken({ sub: 'ops', role: 'dashboard' }),
    );
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json');
    const { devices } = JSON.parse(answer.body) as { devices: Record<string, unknown>[] };
    expect(devices.map((d) => [d['deviceId'], d['online'], d['node']])).toEqual([
      ['d1', false, undefined],
      ['d2', true, 'test-node'],
    ]);
    for (const device of devices) {
      expect(device['lastSeen']).toBeGreaterThanOrEqual(before);
      expect(device).not.toHaveProperty('tenant');
    }

    const service = await httpGet(
      edge.port,
      '/api/devices',
      mintToken({ sub: 'svc', role: 'service', tenant: 'globex' }),
    );
    expect(JSON.parse(service.body).devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'g1',
    ]);
    await Promise.all([d2.close(), other.close()]);
  });

  it('shows a dashboard with a narrowed ACL only the devices it may watch', async () => {
    const a = await TestClient.open(edge.url, mintToken({ sub: 'narrow-a', role: 'device' }));
    const b = await TestClient.open(edge.url, mintToken({ sub: 'narrow-b', role: 'device' }));
    const answer = await httpGet(
      edge.port,
      '/api/devices',
      mintToken({ sub: 'ops', role: 'dashboard', acl: { sub: ['devices/narrow-a/#'] } }),
    );
    expect(JSON.parse(answer.body).devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'narrow-a',
    ]);
    // Page by page, the cursors name no device it may not see (narrow-c sorts last, so a
    // cursor naming its page's last device would name narrow-b).
    const c = await TestClient.open(edge.url, mintToken({ sub: 'narrow-c', role: 'device' }));
    const narrow = mintToken({
      sub: 'ops',
      role: 'dashboard',
      acl: { sub: ['devices/narrow-a/#'] },
    });
    const cursors: string[] = [];
    let next: string | undefined;
    do {
      const query = `/api/devices?limit=1${next ? `&cursor=${next}` : ''}`;
      next = (JSON.parse((await httpGet(edge.port, query, narrow)).body) as { next?: string }).next;
      if (next) cursors.push(Buffer.from(next, 'base64url').toString('latin1'));
    } while (next !== undefined && cursors.length < 50);
    expect(cursors.length).toBeGreaterThanOrEqual(3);
    for (const id of ['narrow-b', 'narrow-c', 'd1', 'd2']) {
      expect(cursors.filter((cursor) => cursor.includes(id))).toEqual([]);
    }
    await c.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('pages with ?limit= and ?cursor= (the `next` of the page before); refuses bad ones (400)', async () => {
    const ids = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    const clients = await Promise.all(
      ids.map((sub) =>
        TestClient.open(edge.url, mintToken({ sub, role: 'device', tenant: 'globex' })),
      ),
    );
    const token = mintToken({ sub: 'ops', role: 'dashboard', tenant: 'globex' });
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const query = `?limit=2${next === undefined ? '' : `&cursor=${next}`}`;
      const answer = await httpGet(edge.port, `/api/devices${query}`, token);
      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.body) as { devices: { deviceId: string }[]; next?: string };
      expect(body.devices.length).toBeLessThanOrEqual(2);
      seen.push(...body.devices.map((d) => d.deviceId));
      next = body.next;
      pages += 1;
    } while (next !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen.filter((id) => id.startsWith('page-'))).toEqual(ids);
    for (const [query, code] of [
      ['?limit=0', 'invalid_parameter'],
      ['?limit=1001', 'invalid_parameter'],
      ['?limit=2x', 'invalid_parameter'],
      ['?cursor=a%20b', 'invalid_cursor'],
      ['?cursor=aaa', 'invalid_cursor'],
      // One value each, not the first of several.
      ['?limit=1&limit=1000', 'invalid_parameter'],
      ['?cursor=a&cursor=b', 'invalid_parameter'],
    ]) {
      const answer = await httpGet(edge.port, `/api/devices${query}`, token);
      expect([query, answer.status, JSON.parse(answer.body).error.code]).toEqual([
        query,
        400,
        code,
      ]);
    }
    await Promise.all(clients.map((c) => c.close()));
  });

  it('refuses devices (403) and requests without a token (401)', async () => {
    expect(
      await httpGet(edge.port, '/api/devices', mintToken({ sub: 'd1', role: 'device' })),
    ).toEqual({
      status: 403,
      type: 'application/json',
      body: '{"error":{"code":"role_not_allowed","message":"only dashboard and service tokens may list devices"}}',
    });
    expect(await httpGet(edge.port, '/api/devices')).toMatchObject({
      status: 401,
      body: '{"error":{"code":"token_missing","message":"no bearer token"}}',
    });
  });
});
