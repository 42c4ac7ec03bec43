import type { DeviceStateDocument, HttpErrorBody, TelemetryPoint } from '@fleetwire/protocol';

/** The HTTP APIs the dashboard reads, on the same origin as the page. */

export interface DevicePresence {
  deviceId: string;
  online: boolean;
  node?: string;
  connectedAt?: number;
  lastSeen?: number;
  /** The gateway a sub-device is reached through, when the device list API says so. */
  gateway?: string;
}

export interface Bucket {
  start: number;
  count: number;
  min: number;
  max: number;
  avg: number;
}

export type { DeviceStateDocument, TelemetryPoint };

/** A refusal in the one HTTP error contract: `{"error": {"code", "message"}}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every answer that is not 2xx, as an ApiError; called for every request the page makes. */
type ErrorListener = (error: ApiError, what: string) => void;
const listeners: ErrorListener[] = [];
export function onApiError(listener: ErrorListener): void {
  listeners.push(listener);
}

async function call<T>(
  token: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ body: T; headers: Headers }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (cause) {
    const error = new ApiError(0, 'network', `${path}: ${(cause as Error).message}`);
    for (const listener of listeners) listener(error, path);
    throw error;
  }
  const body = (await response.json().catch(() => ({}))) as T & Partial<HttpErrorBody>;
  if (!response.ok) {
    // Every Fleetwire service answers errors as {"error": {"code", "message"}}.
    const error = new ApiError(
      response.status,
      body.error?.code ?? 'http_error',
      body.error?.message ?? response.statusText,
    );
    for (const listener of listeners) listener(error, `${init.method ?? 'GET'} ${path}`);
    throw error;
  }
  return { body, headers: response.headers };
}

async function get<T>(token: string, path: string): Promise<T> {
  return (await call<T>(token, path)).body;
}

const devicePath = (deviceId: string): string => `/v1/devices/${encodeURIComponent(deviceId)}`;

/** Pages `listDevices` reads at most (a page holds about 1,000 devices, fewer when sparse). */
const MAX_DEVICE_PAGES = 10_000;

/** Every device the edge knows, a page at a time (each device once). */
export async function listDevices(token: string): Promise<DevicePresence[]> {
  const found = new Map<string, DevicePresence>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_DEVICE_PAGES; page++) {
    const path = cursor === undefined ? '/api/devices' : `/api/devices?cursor=${cursor}`;
    const body = await get<{ devices: DevicePresence[]; next?: string }>(token, path);
    for (const device of body.devices) found.set(device.deviceId, device);
    cursor = body.next;
    if (cursor === undefined) break;
  }
  return [...found.values()];
}

export function devicePresence(token: string, deviceId: string): Promise<DevicePresence> {
  return get(token, `/api/devices/${encodeURIComponent(deviceId)}/presence`);
}

/** The newest `limit` messages of a device in the last `windowMs`, oldest first. */
export async function recentTelemetry(
  token: string,
  deviceId: string,
  windowMs: number,
  limit = 300,
): Promise<TelemetryPoint[]> {
  const to = Date.now() + 1;
  const from = to - windowMs;
  const query = new URLSearchParams({
    from: String(from),
    to: String(to),
    limit: String(limit),
    order: 'desc',
  });
  const page = await get<{ items: TelemetryPoint[] }>(
    token,
    `${devicePath(deviceId)}/telemetry?${query.toString()}`,
  );
  return page.items.reverse();
}

/** A device's telemetry between `from` and `to` (ms, inclusive), oldest first, at most `limit`. */
export async function telemetryRange(
  token: string,
  deviceId: string,
  from: number,
  to: number,
  limit = 1000,
): Promise<TelemetryPoint[]> {
  const query = new URLSearchParams({
    from: String(from),
    to: String(to + 1),
    limit: String(limit),
    order: 'asc',
  });
  const page = await get<{ items: TelemetryPoint[] }>(
    token,
    `${devicePath(deviceId)}/telemetry?${query.toString()}`,
  );
  return page.items;
}

/** One numeric field of a device, down-sampled by the read API into `bucketMs` buckets. */
export async function series(
  token: string,
  deviceId: string,
  field: string,
  from: number,
  to: number,
  bucketMs: number,
): Promise<Bucket[]> {
  const query = new URLSearchParams({
    from: String(from),
    to: String(to),
    field,
    bucket: `${Math.round(bucketMs / 1000)}s`,
  });
  const body = await get<{ buckets: Bucket[] }>(
    token,
    `${devicePath(deviceId)}/series?${query.toString()}`,
  );
  return body.buckets;
}

export function deviceState(token: string, deviceId: string): Promise<DeviceStateDocument> {
  return get(token, `${devicePath(deviceId)}/state`);
}

/** A patch of `desired` at the version the page shows: 412 when someone changed it meanwhile. */
export async function patchDesired(
  token: string,
  deviceId: string,
  desired: Record<string, unknown>,
  version: number,
): Promise<DeviceStateDocument> {
  const { body } = await call<DeviceStateDocument>(token, `${devicePath(deviceId)}/state`, {
    method: 'PATCH',
    body: { desired },
    headers: { 'if-match': `"${version}"` },
  });
  return body;
}

/** The serving node's Prometheus metrics, as text (undefined when this deployment hides them). */
export async function metricsText(): Promise<string | undefined> {
  const response = await fetch('/metrics').catch(() => undefined);
  if (!response?.ok) return undefined;
  return response.text();
}
