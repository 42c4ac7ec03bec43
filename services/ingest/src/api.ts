import {
  AuthError,
  coversDevice,
  extractToken,
  type Identity,
  type TokenVerifier,
} from '@fleetwire/auth';
import { HttpError, httpErrorBody } from '@fleetwire/protocol';
import { StoreError, type TelemetryPoint, type TelemetryStore } from '@fleetwire/store';

import type { ApiConfig } from './config.js';
import { InFlightRequests } from './in-flight.js';
import { MAX_TIME_MS, Params, checkDeviceId, encodeCursor, requestUrl } from './params.js';

export interface ApiRequest {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  authorization: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  /** Route template for metrics: `/v1/devices/{deviceId}/telemetry`, … or `unmatched`. */
  route: string;
  headers?: Record<string, string>;
  /** The error behind a 5xx answer, for the server to log. */
  failure?: unknown;
}

export interface ApiDeps {
  store: TelemetryStore;
  verifier: TokenVerifier;
  config: ApiConfig;
}

/** The read API's routes, as the OpenAPI document lists them. */
export const API_ROUTES = [
  '/v1/devices/{deviceId}/telemetry',
  '/v1/devices/{deviceId}/series',
  '/v1/latest',
] as const;
type Route = (typeof API_ROUTES)[number];

const DEVICE_ROUTE = /^\/v1\/devices\/([^/]+)\/(telemetry|series)$/;
const READER_ROLES = new Set(['dashboard', 'service']);
const DEFAULT_PAGE = 100;
const MAX_LATEST_DEVICES = 100;

function match(path: string): { route: Route; deviceId?: string } | undefined {
  if (path === '/v1/latest') return { route: '/v1/latest' };
  const m = DEVICE_ROUTE.exec(path);
  if (!m) return undefined;
  let deviceId: string;
  try {
    deviceId = decodeURIComponent(m[1]!);
  } catch {
    throw new HttpError('invalid_parameter', 'deviceId: bad percent-encoding');
  }
  return {
    route:
      m[2] === 'telemetry' ? '/v1/devices/{deviceId}/telemetry' : '/v1/devices/{deviceId}/series',
    deviceId,
  };
}

function pointJson(p: TelemetryPoint) {
  return { deviceId: p.deviceId, topic: p.topic, ts: p.ts, msgId: p.msgId, data: p.data };
}

/**
 * The telemetry read API: tenant-scoped by the token alone (no tenant in any URL), for the
 * dashboard and service roles; a dashboard whose token narrows its subscribe ACL sees only the
 * devices that ACL covers.
 */
export class ReadApi {
  private readonly inFlight: InFlightRequests;

  constructor(private readonly deps: ApiDeps) {
    this.inFlight = new InFlightRequests(deps.config.inFlight);
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    let route = 'unmatched';
    try {
      const url = requestUrl(request.url);
      const matched = match(url.pathname);
      if (!matched) throw new HttpError('not_found', `no route ${url.pathname}`);
      route = matched.route;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        throw new HttpError('method_not_allowed', `${request.method} is not allowed here`);
      }
      const identity = await this.authenticate(request.authorization);
      const params = new Params(url.searchParams);
      const body = await this.inTurn<unknown>(identity, () =>
        matched.route === '/v1/latest'
          ? this.latest(identity, params)
          : this.deviceRoute(matched.route, identity, checkDeviceId(matched.deviceId!), params),
      );
      return { status: 200, body, route };
    } catch (error) {
      const apiError = toHttpError(error);
      return {
        status: apiError.status,
        body: httpErrorBody(apiError.code, apiError.message),
        route,
        ...(apiError.status === 405 ? { headers: { allow: 'GET, HEAD' } } : {}),
        ...(apiError.status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}),
        ...(apiError.status === 429 || apiError.code === 'api_busy'
          ? { headers: { 'retry-after': '1' } }
          : apiError.status === 503
            ? { headers: { 'retry-after': '5' } }
            : {}),
        // Only a bug is logged as a failure; 503s are the store's or the issuer's, counted.
        ...(apiError.code === 'internal' ? { failure: error } : {}),
      };
    }
  }

  /** Runs `read` unless too many requests are in progress (InFlightRequests). */
  private async inTurn<T>(identity: Identity, read: () => Promise<T>): Promise<T> {
    const release = this.inFlight.admit(identity);
    try {
      return await read();
    } finally {
      release();
    }
  }

  private async authenticate(authorization: string): Promise<Identity> {
    const token = extractToken({ authorization, protocols: '', query: '' });
    if (token === undefined) {
      throw new HttpError('token_missing', 'send Authorization: Bearer <token>');
    }
    const identity = await this.deps.verifier.verify(token);
    if (!READER_ROLES.has(identity.role)) {
      throw new HttpError('role_not_allowed', `role ${identity.role} may not read telemetry`);
    }
    return identity;
  }

  private mayRead(identity: Identity, deviceId: string): boolean {
    return coversDevice(identity, deviceId);
  }

  private async deviceRoute(route: Route, identity: Identity, deviceId: string, params: Params) {
    if (!this.mayRead(identity, deviceId)) {
      throw new HttpError('forbidden', `this token may not read device ${deviceId}`);
    }
    const { config, store } = this.deps;
    const { from, to } = params.timeRange(Date.now());
    const topic = params.optionalString('topic', 256);
    if (route === '/v1/devices/{deviceId}/series') {
      const bucketMs = params.bucketMs();
      const field = params.field();
      if (Math.ceil((to - from) / bucketMs) > config.maxBuckets) {
        throw new HttpError(
          'invalid_parameter',
          `bucket: (to - from) / bucket exceeds ${config.maxBuckets} buckets`,
        );
      }
      const buckets = await store.buckets({
        tenant: identity.tenant,
        deviceId,
        from,
        to,
        bucketMs,
        field,
        ...(topic ? { topic } : {}),
      });
      return { deviceId, field: field.join('.'), from, to, bucketMs, buckets };
    }
    const order = params.order();
    const limit = params.limit(DEFAULT_PAGE, config.maxPage);
    const after = params.cursor((v) =>
      Array.isArray(v) &&
      v.length === 3 &&
      v[0] === order &&
      Number.isSafeInteger(v[1]) &&
      (v[1] as number) >= 0 &&
      (v[1] as number) <= MAX_TIME_MS &&
      typeof v[2] === 'string'
        ? { ts: v[1] as number, msgId: v[2] }
        : undefined,
    );
    const page = await store.range({
      tenant: identity.tenant,
      deviceId,
      from,
      to,
      limit,
      order,
      ...(topic ? { topic } : {}),
      ...(after ? { after } : {}),
    });
    return {
      items: page.items.map(pointJson),
      nextCursor: page.next ? encodeCursor([order, page.next.ts, page.next.msgId]) : null,
    };
  }

  /**
   * The devices a token whose ACL names them may read; undefined when it reads every device of
   * its tenant (no device id is `+`: a token that may read that subtree reads by wildcard).
   */
  private readableDevices(identity: Identity): string[] | undefined {
    if (this.mayRead(identity, '+')) return undefined;
    const named = new Set<string>();
    // Only `devices/<id>/…` or `+/<id>/…` can cover one device's subtree and not all of them;
    // mayRead has the last word on every id named.
    for (const pattern of identity.subscribe) {
      const id = pattern.split('/')[1];
      if (id && id !== '+' && id !== '#') named.add(id);
    }
    return [...named].filter((id) => this.mayRead(identity, id)).sort();
  }

  private async latest(identity: Identity, params: Params) {
    let deviceIds = params.deviceIds(MAX_LATEST_DEVICES);
    for (const id of deviceIds ?? []) {
      if (!this.mayRead(identity, id)) {
        throw new HttpError('forbidden', `this token may not read device ${id}`);
      }
    }
    const limit = params.limit(DEFAULT_PAGE, this.deps.config.maxPage);
    const after = params.cursor((v) =>
      Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === 'string')
        ? { deviceId: v[0] as string, topic: v[1] as string }
        : undefined,
    );
    // A narrowed token pages through its own devices only: paging over the tenant's and
    // filtering after would hand it cursors naming the devices it may not see.
    deviceIds ??= this.readableDevices(identity);
    if (deviceIds?.length === 0) return { items: [], nextCursor: null };
    const page = await this.deps.store.latest({
      tenant: identity.tenant,
      limit,
      ...(deviceIds ? { deviceIds } : {}),
      ...(after ? { after } : {}),
    });
    return {
      items: page.items.map(pointJson),
      nextCursor: page.next ? encodeCursor([page.next.deviceId, page.next.topic]) : null,
    };
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof AuthError) return new HttpError(error.code, error.message);
  if (
    error instanceof StoreError &&
    (error.code === 'store_unavailable' || error.code === 'store_conflict')
  ) {
    return new HttpError('store_unavailable', 'the telemetry store is not reachable; retry');
  }
  return new HttpError('internal', 'internal error', { cause: error });
}
