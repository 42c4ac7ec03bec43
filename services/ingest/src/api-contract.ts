import { readFileSync } from 'node:fs';

import { TelemetryStore, migrate, type SqlClient, type TelemetryRow } from '@fleetwire/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { API_ROUTES } from './api.js';
import { OPENAPI_FILE } from './http-server.js';
import { mintToken, startTestApi, type TestApi } from './test-support.js';

export interface ApiTestDatabase {
  client: SqlClient;
  close(): Promise<void>;
}

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MIN = 60_000;

function row(tenant: string, deviceId: string, ts: number, msgId: string, data = {}): TelemetryRow {
  return { tenant, deviceId, ts, msgId, topic: `devices/${deviceId}/telemetry`, data };
}

const dashboard = mintToken({ sub: 'ui', role: 'dashboard' });
const service = mintToken({ sub: 'svc', role: 'service' });
const globex = mintToken({ sub: 'ui', role: 'dashboard', tenant: 'globex' });

/** The read API over a store on a given driver: PGlite (unit) and PostgreSQL (integration). */
export function describeReadApi(driver: string, open: () => Promise<ApiTestDatabase>): void {
  describe(`read API on ${driver}`, () => {
    let db: ApiTestDatabase;
    let api: TestApi;

    beforeAll(async () => {
      db = await open();
      await migrate(db.client);
      const store = new TelemetryStore(db.client);
      await store.insertBatch([
        ...Array.from({ length: 25 }, (_, i) =>
          row('acme', 'd1', T0 + i * MIN, `m${String(i).padStart(2, '0')}`, { temp: i }),
        ),
        row('acme', 'd2', T0, 'x1', { temp: 100 }),
        row('globex', 'd1', T0 + MIN, 'g1', { temp: -1 }),
      ]);
      api = await startTestApi(store, { FLEETWIRE_TENANTS: 'acme,globex' });
    });
    afterAll(async () => {
      await api?.close();
      await db?.close();
    });

    const range = `from=${T0}&to=${new Date(T0 + 60 * MIN).toISOString()}`;

    it('pages a device range with nextCursor until null, in both orders', async () => {
      const seen: string[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = `${range}&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await api.get(`/v1/devices/d1/telemetry?${query}`, dashboard);
        expect(res.status).toBe(200);
        seen.push(res.body.items.map((p: { msgId: string }) => p.msgId));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(seen.flat()).toEqual(
        Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(2, '0')}`),
      );

      const desc = await api.get(`/v1/devices/d1/telemetry?${range}&limit=2&order=desc`, service);
      expect(desc.body.items).toEqual([
        {
          deviceId: 'd1',
          topic: 'devices/d1/telemetry',
          ts: T0 + 24 * MIN,
          msgId: 'm24',
          data: { temp: 24 },
        },
        {
          deviceId: 'd1',
          topic: 'devices/d1/telemetry',
          ts: T0 + 23 * MIN,
          msgId: 'm23',
          data: { temp: 23 },
        },
      ]);
      // A cursor belongs to its order.
      const mixed = await api.get(
        `/v1/devices/d1/telemetry?${range}&cursor=${desc.body.nextCursor}`,
        service,
      );
      expect(mixed).toEqual({
        status: 400,
        body: {
          error: { code: 'invalid_cursor', message: 'cursor: not a cursor this route returned' },
        },
      });
    });

    it('down-samples a field into buckets', async () => {
      const res = await api.get(
        `/v1/devices/d1/series?from=${T0}&to=${T0 + 30 * MIN}&field=temp&bucket=10m`,
        dashboard,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        deviceId: 'd1',
        field: 'temp',
        from: T0,
        to: T0 + 30 * MIN,
        bucketMs: 10 * MIN,
        buckets: [
          { start: T0, count: 10, min: 0, max: 9, avg: 4.5 },
          { start: T0 + 10 * MIN, count: 10, min: 10, max: 19, avg: 14.5 },
          { start: T0 + 20 * MIN, count: 5, min: 20, max: 24, avg: 22 },
        ],
      });
    });

    it('returns the latest value per device of the token’s tenant only', async () => {
      const acme = await api.get('/v1/latest', dashboard);
      expect(
        acme.body.items.map((p: { deviceId: string; msgId: string }) => [p.deviceId, p.msgId]),
      ).toEqual([
        ['d1', 'm24'],
        ['d2', 'x1'],
      ]);
      const paged = await api.get('/v1/latest?limit=1', dashboard);
      expect(paged.body.items).toHaveLength(1);
      const rest = await api.get(`/v1/latest?limit=1&cursor=${paged.body.nextCursor}`, dashboard);
      expect(rest.body).toMatchObject({ items: [{ deviceId: 'd2' }], nextCursor: null });
      const only = await api.get('/v1/latest?deviceId=d2', dashboard);
      expect(only.body.items.map((p: { msgId: string }) => p.msgId)).toEqual(['x1']);
    });

    it('refuses other tenants: their token sees only their own rows, at every route', async () => {
      const theirs = await api.get(`/v1/devices/d1/telemetry?${range}`, globex);
      expect(theirs.body.items.map((p: { msgId: string }) => p.msgId)).toEqual(['g1']);
      const latest = await api.get('/v1/latest', globex);
      expect(latest.body.items.map((p: { msgId: string }) => p.msgId)).toEqual(['g1']);
      const series = await api.get(`/v1/devices/d2/series?${range}&field=temp&bucket=1h`, globex);
      expect(series.body.buckets).toEqual([]);
      const stranger = mintToken({ sub: 'ui', role: 'dashboard', tenant: 'initech' });
      expect(await api.get(`/v1/devices/d1/telemetry?${range}`, stranger)).toEqual({
        status: 403,
        body: {
          error: { code: 'tenant_not_allowed', message: 'tenant initech is not served here' },
        },
      });
    });

    it('refuses devices, missing or bad tokens, and devices outside a narrowed ACL', async () => {
      const device = mintToken({ sub: 'd1', role: 'device' });
      expect((await api.get('/v1/latest', device)).body.error.code).toBe('role_not_allowed');
      expect((await api.get('/v1/latest', device)).status).toBe(403);
      expect(await api.get('/v1/latest')).toEqual({
        status: 401,
        body: { error: { code: 'token_missing', message: 'send Authorization: Bearer <token>' } },
      });
      const forged = mintToken(
        { sub: 'ui', role: 'dashboard' },
        'another-secret-that-is-32-bytes-long!!',
      );
      const bad = await api.get('/v1/latest', forged);
      expect([bad.status, bad.body.error.code]).toEqual([401, 'token_bad_signature']);

      const narrow = mintToken({ sub: 'ui', role: 'dashboard', acl: { sub: ['devices/d2/#'] } });
      const refused = await api.get(`/v1/devices/d1/telemetry?${range}`, narrow);
      expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
      const latest = await api.get('/v1/latest', narrow);
      expect(latest.body.items.map((p: { deviceId: string }) => p.deviceId)).toEqual(['d2']);
      // Paging never hands it a cursor naming a device it may not see (d1 sorts first).
      const paged = await api.get('/v1/latest?limit=1', narrow);
      expect(paged.body).toMatchObject({ items: [{ deviceId: 'd2' }], nextCursor: null });
      const none = mintToken({ sub: 'ui', role: 'dashboard', acl: { sub: ['devices/d9/#'] } });
      expect((await api.get('/v1/latest?limit=1', none)).body).toEqual({
        items: [],
        nextCursor: null,
      });
      // Its parameters are checked all the same.
      expect((await api.get('/v1/latest?limit=0', none)).status).toBe(400);
      // A first level of `+` names a device as well as `devices` does.
      const plus = mintToken({ sub: 'ui', role: 'dashboard', acl: { sub: ['+/d2/#'] } });
      expect(
        (await api.get('/v1/latest', plus)).body.items.map((p: { deviceId: string }) => p.deviceId),
      ).toEqual(['d2']);
    });

    it('answers invalid parameters with 400 and the parameter named', async () => {
      const cases: [string, string][] = [
        [
          `/v1/devices/d1/telemetry?from=${T0}&to=soon`,
          'to: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        [
          `/v1/devices/d1/telemetry?from=yesterday`,
          'from: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        // Date.parse reads these as dates (2001, 2020); the API must not.
        [
          `/v1/devices/d1/telemetry?from=-5`,
          'from: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        [
          `/v1/devices/d1/telemetry?from=foo%202020`,
          'from: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        [
          `/v1/devices/d1/telemetry?from=2025-02-30T00:00:00Z`,
          'from: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        [`/v1/devices/d1/telemetry?from=${T0}&to=${T0}`, 'to: must be after from'],
        [`/v1/devices/d1/telemetry?${range}&limit=0`, 'limit: an integer from 1 to 1000'],
        [`/v1/devices/d1/telemetry?${range}&order=up`, 'order: asc or desc'],
        [`/v1/devices/d1/series?${range}&field=temp&bucket=500ms`, 'bucket: from 1s to 31d'],
        [
          `/v1/devices/d1/series?${range}&field=temp&bucket=soon`,
          'bucket: a duration such as 30s, 5m, 1h or 1d',
        ],
        [
          `/v1/devices/d1/series?from=0&to=${T0}&field=temp&bucket=1s`,
          'bucket: (to - from) / bucket exceeds 10000 buckets',
        ],
        [
          `/v1/devices/d1/series?${range}&field=a..b&bucket=1m`,
          'field: dot-separated names of letters, digits, _ and - (at most 8)',
        ],
        [
          `/v1/devices/bad%20id/telemetry?${range}`,
          'deviceId: letters, digits and _ . : @ - only (1–128 characters)',
        ],
        // Valid for JavaScript, not for PostgreSQL: refused here, not a 500 from the store.
        [
          `/v1/devices/d1/telemetry?from=${T0}&to=8640000000000000`,
          'to: not a time (ISO 8601 or epoch ms, up to 9999-12-31)',
        ],
        [`/v1/devices/d1/telemetry?${range}&topic=a%00b`, 'topic: must not contain U+0000'],
        [
          `/v1/devices/d1/series?${range}&field=temp&bucket=1h&topic=%00`,
          'topic: must not contain U+0000',
        ],
        // One value each: `limit=1&limit=5000` would otherwise be read as 1, silently.
        [`/v1/devices/d1/telemetry?${range}&limit=1&limit=5000`, 'limit: given more than once'],
        [`/v1/devices/d1/telemetry?from=${T0}&from=0&to=${T0 + 1}`, 'from: given more than once'],
        [`/v1/devices/d1/series?${range}&field=a&field=b&bucket=1m`, 'field: given more than once'],
        [`/v1/latest?cursor=a&cursor=b`, 'cursor: given more than once'],
      ];
      for (const [path, message] of cases) {
        expect(await api.get(path, dashboard)).toEqual({
          status: 400,
          body: { error: { code: 'invalid_parameter', message } },
        });
      }
      expect(
        (await api.get(`/v1/devices/d1/telemetry?${range}&cursor=zzz`, dashboard)).body.error.code,
      ).toBe('invalid_cursor');
      // A cursor made by hand with a time no date can hold.
      const far = Buffer.from(JSON.stringify(['asc', Number.MAX_SAFE_INTEGER, 'x'])).toString(
        'base64url',
      );
      expect(
        (await api.get(`/v1/devices/d1/telemetry?${range}&cursor=${far}`, dashboard)).body.error
          .code,
      ).toBe('invalid_cursor');
      expect((await api.get('//[/v1/latest', dashboard)).body.error.code).toBe('bad_request');
      expect((await api.get('/v1/nothing', dashboard)).status).toBe(404);
      const post = await api.get('/v1/latest', dashboard, 'POST');
      expect([post.status, post.body.error.code]).toEqual([405, 'method_not_allowed']);
    });

    it('serves every route the OpenAPI document lists, and the document lists every API route', async () => {
      const doc = readFileSync(OPENAPI_FILE, 'utf8');
      const paths = [...doc.matchAll(/^ {2}(\/[^:\s]*):$/gm)].map((m) => m[1]!);
      expect(paths).toEqual(expect.arrayContaining([...API_ROUTES]));
      for (const path of paths) {
        const concrete = path.replace('{deviceId}', 'd1');
        const res = await api.get(`${concrete}?${range}&field=temp&bucket=1h`, dashboard);
        expect([path, res.status]).toEqual([path, 200]);
      }
      expect((await api.get('/metrics')).body).toMatch(
        /fleetwire_ingest_api_requests_total\{route="\/v1\/latest",status="200"/,
      );
    });

    it('without from/to: the last 24 hours up to 5 minutes ahead; either alone sets its end', async () => {
      const now = Date.now();
      const HOUR = 60 * MIN;
      await new TelemetryStore(db.client).insertBatch([
        row('acme', 'd9', now - 25 * HOUR, 'old'),
        row('acme', 'd9', now - 23 * HOUR, 'day'),
        row('acme', 'd9', now - MIN, 'recent'),
        row('acme', 'd9', now + 2 * MIN, 'ahead'), // a device clock a little fast
        row('acme', 'd9', now + 10 * MIN, 'future'),
      ]);
      const ids = async (query: string): Promise<string[]> => {
        const res = await api.get(`/v1/devices/d9/telemetry${query}`, dashboard);
        expect(res.status).toBe(200);
        return res.body.items.map((p: { msgId: string }) => p.msgId);
      };
      expect(await ids('')).toEqual(['day', 'recent', 'ahead']);
      expect(await ids(`?from=${now - 26 * HOUR}`)).toEqual(['old', 'day', 'recent', 'ahead']);
      expect(await ids(`?to=${now}`)).toEqual(['day', 'recent']);
      expect(await ids(`?to=${now - 22 * HOUR}`)).toEqual(['old', 'day']);
      const series = await api.get('/v1/devices/d9/series?field=temp&bucket=1h', dashboard);
      expect(series.status).toBe(200);
      expect(series.body.to - series.body.from).toBe(24 * HOUR);
    });
  });
}
