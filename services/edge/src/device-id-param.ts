import { HttpError } from '@fleetwire/protocol';
import type { HttpRequest } from 'uWebSockets.js';

/** A token `sub`: what a device id can be. */
const DEVICE_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

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
  return DEVICE_ID.test(id)
    ? id
    : new HttpError(
        'invalid_parameter',
        'deviceId: letters, digits and _ . : @ - only (1–128 characters)',
      );
}
