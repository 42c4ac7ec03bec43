import { DeviceId, HttpError } from '@fleetwire/protocol';
import type { HttpRequest } from 'uWebSockets.js';

/**
 * The route's first parameter as a device id: percent-decoded (uWS hands it over as sent, and
 * clients encode `:` and `@`), then checked; an HttpError (400) otherwise.
 */
export function deviceIdParam(req: HttpRequest): string | HttpError {
  let id: string;
  try {
    id = decodeURIComponent(req.getParameter(0) ?? '');
  } catch {
    return new HttpError('invalid_parameter', 'deviceId: bad percent-encoding');
  }
  return DeviceId.safeParse(id).success
    ? id
    : new HttpError(
        'invalid_parameter',
        'deviceId: letters, digits and _ . : @ - only (1–128 characters)',
      );
}
