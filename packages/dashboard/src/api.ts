import type { HttpErrorBody, TelemetryPoint } from '@fleetwire/protocol';

/** The HTTP APIs the dashboard reads, on the same origin as the page. */

export interface DevicePresence {
  deviceId: string;
  online: boolean;
  node?: string;
  connectedAt?: number;
  lastSeen?: number;
}

export type { TelemetryPoint };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function get<T>(token: string, path: string): Promise<T> {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json().catch(() => ({}))) as T & Partial<HttpErrorBody>;
  if (!response.ok) {
    // Every Fleetwire service answers errors as {"error": {"code", "message"}}.
    throw new ApiError(
      response.status,
      body.error?.code ?? 'http_error',
      body.error?.message ?? response.statusText,
    );
  }
  return body;
}

export async function listDevices(token: string): Promise<DevicePresence[]> {
  const body = await get<DevicePresence[] | { devices: DevicePresence[] }>(token, '/api/devices');
  return Array.isArray(body) ? body : body.devices;
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
    `/v1/devices/${encodeURIComponent(deviceId)}/telemetry?${query.toString()}`,
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
    `/v1/devices/${encodeURIComponent(deviceId)}/telemetry?${query.toString()}`,
  );
  return page.items;
}
