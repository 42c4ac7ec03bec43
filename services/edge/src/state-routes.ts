import {
  ErrorCode,
  HttpError,
  ProtocolError,
  StatePatchBody,
  decodeJson,
  firstIssue,
  type DecodeLimits,
  type DeviceStateDocument,
  type HttpErrorCode,
} from '@fleetwire/protocol';
import { StateVersionConflict } from '@fleetwire/store';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';

import { StateAccessError, StateBusyError, type DeviceStates } from './core/device-states.js';
import { deviceIdParam } from './device-id-param.js';
import { authenticateRequest, type HttpAuthDeps } from './http-auth.js';
import { BodyTooLargeError, readBody } from './http-body.js';
import { methodNotAllowed, sendError, sendJson } from './http-json.js';

export interface StateRoutesDeps extends HttpAuthDeps {
  states: DeviceStates;
  /** Shape bounds for request bodies, the same as for frames. */
  decodeLimits: DecodeLimits;
}

export const STATE_ROUTE = '/v1/devices/:id/state';
const MAX_BODY_BYTES = 64 * 1024;

/** `If-Match: "7"` (or W/"7", 7, *): the version the caller last saw; undefined for none or `*`. */
export function parseIfMatch(header: string): number | undefined | 'invalid' {
  const value = header.trim();
  if (value === '' || value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  return match ? Number(match[1]) : 'invalid';
}

function etag(doc: DeviceStateDocument): Record<string, string> {
  return { etag: `"${doc.version}"`, 'cache-control': 'no-store' };
}

/** The HTTP answer to a failed state request: the one error contract, one status per code. */
function httpErrorOf(error: unknown, viaIfMatch: boolean): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof StateAccessError) return new HttpError(error.code, error.message);
  if (error instanceof StateBusyError) return new HttpError('state_busy', error.message);
  if (error instanceof StateVersionConflict) {
    return new HttpError(viaIfMatch ? 'precondition_failed' : 'version_conflict', error.message);
  }
  if (error instanceof ProtocolError) {
    const code: HttpErrorCode =
      error.code === ErrorCode.LimitExceeded ? 'limit_exceeded' : 'bad_request';
    return new HttpError(code, error.message);
  }
  return new HttpError('state_unavailable', 'the device state store is not reachable; retry', {
    cause: error,
  });
}

/**
 * `GET /v1/devices/{id}/state` (the document, with its version as ETag) and `PATCH` (a patch of
 * `desired`; at a version named by `If-Match` → 412, or by the body's `version` → 409), served by
 * every edge: the edge that takes the change sends it on to the device wherever it is connected.
 */
export function registerStateRoutes(app: TemplatedApp, deps: StateRoutesDeps): void {
  const { metrics, logger, states } = deps;

  const answerError = (res: HttpResponse, error: unknown, viaIfMatch: boolean): void => {
    const refusal = httpErrorOf(error, viaIfMatch);
    if (refusal.code === 'state_unavailable') {
      logger.warn({ err: error }, 'device state request failed');
    }
    metrics.httpRefusals.inc({ reason: refusal.code });
    sendError(res, refusal.code, refusal.message);
  };

  app.get(STATE_ROUTE, async (res, req) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const deviceId = deviceIdParam(req);
    const identity = await authenticateRequest(deps, res, req, () => aborted);
    if (!identity) return;
    if (deviceId instanceof HttpError) return answerError(res, deviceId, false);
    states.read(identity, deviceId).then(
      (doc) => {
        if (!aborted) sendJson(res, '200 OK', doc, etag(doc));
      },
      (error: unknown) => {
        if (!aborted) answerError(res, error, false);
      },
    );
  });

  app.patch(STATE_ROUTE, async (res, req) => {
    let done = false;
    res.onAborted(() => {
      done = true;
    });
    // Read from the start: uWS drops body chunks that arrive while nobody reads.
    const reading = readBody(res, MAX_BODY_BYTES, req.getHeader('content-length'));
    reading.catch(() => undefined);
    const deviceId = deviceIdParam(req);
    const ifMatch = parseIfMatch(req.getHeader('if-match'));
    const identity = await authenticateRequest(deps, res, req, () => done);
    if (!identity) return;
    const fail = (error: unknown, viaIfMatch = false): void => {
      if (done) return;
      done = true;
      answerError(res, error, viaIfMatch);
    };
    if (deviceId instanceof HttpError) return fail(deviceId);
    if (ifMatch === 'invalid') {
      return fail(new HttpError('invalid_parameter', 'If-Match: a version such as "7"'));
    }
    let body: Buffer;
    try {
      body = await reading;
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return fail(new HttpError('body_too_large', error.message));
    }
    if (done) return;
    let patch: StatePatchBody;
    try {
      const parsed = StatePatchBody.safeParse(decodeJson(body, deps.decodeLimits));
      if (!parsed.success) throw new HttpError('bad_request', firstIssue(parsed.error));
      patch = parsed.data;
    } catch (error) {
      return fail(error instanceof ProtocolError ? bodyError(error) : error);
    }
    const expected = ifMatch ?? patch.version;
    states.setDesired(identity, deviceId, patch.desired, expected).then(
      (doc) => {
        if (done) return;
        done = true;
        sendJson(res, '200 OK', doc, etag(doc));
      },
      (error: unknown) => {
        if (error instanceof StateVersionConflict) metrics.stateConflicts.inc();
        fail(error, ifMatch !== undefined);
      },
    );
  });

  app.any(STATE_ROUTE, methodNotAllowed(metrics.httpRefusals, 'GET, PATCH'));
}

type StatePatchBody = ReturnType<typeof StatePatchBody.parse>;

/** A body the bounded decoder refused: too big a shape, or not JSON at all. */
function bodyError(error: ProtocolError): HttpError {
  return error.code === ErrorCode.LimitExceeded
    ? new HttpError('limit_exceeded', `body: ${error.message}`)
    : new HttpError('bad_request', `body: ${error.message}`);
}
