import { randomUUID } from 'node:crypto';

import { canSpeakFor, coversDevice, isDeviceRole, type TokenVerifier } from '@fleetwire/auth';
import { BusError, type PageQuery } from '@fleetwire/bus';
import {
  CommandRequestBody,
  ErrorCode,
  HttpError,
  NackReason,
  type HttpErrorCode,
  ProtocolError,
  decodeJson,
  firstIssue,
  singleQueryValue,
  type DecodeLimits,
} from '@fleetwire/protocol';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';

import type { CommandReply, CommandRouter } from './core/commands.js';
import { deviceIdParam } from './device-id-param.js';
import { authenticateRequest } from './http-auth.js';
import { BodyTooLargeError, readBody } from './http-body.js';
import type { EdgeMetrics } from './metrics.js';
import type { PresenceTracker } from './core/presence-tracker.js';
import { methodNotAllowed, sendError, sendJson } from './http-json.js';

export interface HttpApiDeps {
  verifier: TokenVerifier;
  commands: CommandRouter;
  presence: PresenceTracker;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Shape bounds for request bodies, the same as for frames. */
  decodeLimits: DecodeLimits;
}

const MAX_BODY_BYTES = 64 * 1024;

/** Devices a page of `GET /api/devices` holds at most (about: Redis pages are approximate). */
export const MAX_DEVICE_PAGE = 1000;

/** `?limit=` (1–1000, default 1000) and `?cursor=` (a `next` this route returned). */
function devicePageQuery(params: URLSearchParams): PageQuery | HttpError {
  let limit: string | null;
  let cursor: string | null;
  try {
    limit = singleQueryValue(params, 'limit');
    cursor = singleQueryValue(params, 'cursor');
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  const count = limit === null ? MAX_DEVICE_PAGE : Number(limit);
  if ((limit !== null && !/^[1-9]\d{0,3}$/.test(limit)) || count > MAX_DEVICE_PAGE) {
    return new HttpError('invalid_parameter', `limit: a whole number from 1 to ${MAX_DEVICE_PAGE}`);
  }
  if (cursor !== null && !/^[\w-]{1,256}$/.test(cursor)) {
    return new HttpError('invalid_cursor', 'cursor: not one this route returned');
  }
  return cursor === null ? { limit: count } : { limit: count, cursor };
}

/** HTTP status for a command's nack reason. */
function statusOf(answer: CommandReply): string {
  if (answer.type === 'ack') return '200 OK';
  switch (answer.reason) {
    case NackReason.Offline:
      return '404 Not Found';
    case NackReason.Timeout:
      return '504 Gateway Timeout';
    case NackReason.Retry:
      return '503 Service Unavailable';
    default:
      return '409 Conflict';
  }
}

/**
 * `POST /api/commands` (send a command, answer with its ack or nack), `GET /api/devices`,
 * `GET /api/devices/:id/presence` and `DELETE /api/devices/:id`, for services and dashboards
 * with a bearer token.
 */
export function registerHttpApi(app: TemplatedApp, deps: HttpApiDeps): void {
  const { metrics, logger } = deps;

  const authenticate = (res: HttpResponse, req: HttpRequest, aborted: () => boolean) =>
    authenticateRequest(deps, res, req, aborted);

  /** A request refused (4xx): counted by the code it is answered with. */
  const refuse = (res: HttpResponse, code: HttpErrorCode, message: string): void => {
    metrics.httpRefusals.inc({ reason: code });
    sendError(res, code, message);
  };

  /**
   * A route on one device (`:id`): the caller and the device id (percent-decoded, checked);
   * undefined once refused (answered) or when the client went away.
   */
  const deviceRequest = async (res: HttpResponse, req: HttpRequest) => {
    const deviceId = deviceIdParam(req);
    let gone = false;
    res.onAborted(() => {
      gone = true;
    });
    const identity = await authenticate(res, req, () => gone);
    if (!identity) return undefined;
    if (deviceId instanceof HttpError) {
      refuse(res, deviceId.code, deviceId.message);
      return undefined;
    }
    return { identity, deviceId, aborted: () => gone };
  };

  app.post('/api/commands', async (res, req) => {
    const owner = {};
    let done = false;
    res.onAborted(() => {
      done = true;
      deps.commands.senderClosed(owner);
    });
    // Read from the start: uWS drops body chunks that arrive while nobody reads.
    const reading = readBody(res, MAX_BODY_BYTES, req.getHeader('content-length'));
    reading.catch(() => undefined);
    const identity = await authenticate(res, req, () => done);
    if (!identity) return;
    if (!identity.command) {
      refuse(res, 'role_not_allowed', 'this role may not send commands');
      return;
    }
    reading.then(
      (body) => {
        if (done) return;
        let value: unknown;
        try {
          value = decodeJson(body, deps.decodeLimits);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          done = true;
          const code = error.code === ErrorCode.LimitExceeded ? 'limit_exceeded' : 'bad_request';
          refuse(res, code, `body: ${error.message}`);
          return;
        }
        const parsed = CommandRequestBody.safeParse(value);
        if (!parsed.success) {
          done = true;
          refuse(res, 'bad_request', firstIssue(parsed.error));
          return;
        }
        const command = parsed.data;
        // A token narrowed to some devices commands those it may watch, as it changes their state.
        if (!coversDevice(identity, command.target)) {
          done = true;
          refuse(res, 'forbidden', `this token does not cover ${command.target}`);
          return;
        }
        deps.commands.dispatch(
          {
            subject: identity.subject,
            tenant: identity.tenant,
            owner,
            reply: (answer) => {
              if (done) return;
              done = true;
              sendJson(
                res,
                statusOf(answer),
                answer.type === 'ack'
                  ? { status: 'ack', ...answer }
                  : { status: 'nack', ...answer },
              );
            },
          },
          {
            type: 'command',
            id: command.id ?? randomUUID(),
            target: command.target,
            name: command.name,
            ...(command.params === undefined ? {} : { params: command.params }),
            ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
          },
        );
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        if (!(error instanceof BodyTooLargeError)) throw error;
        refuse(res, 'body_too_large', error.message);
      },
    );
  });

  // The dashboard's device list: the known devices of the caller's tenant with their presence,
  // a page at a time (a tenant may know a million).
  app.get('/api/devices', async (res, req) => {
    const page = devicePageQuery(new URLSearchParams(req.getQuery() ?? ''));
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const identity = await authenticate(res, req, () => aborted);
    if (!identity) return;
    if (isDeviceRole(identity)) {
      refuse(res, 'role_not_allowed', 'only dashboard and service tokens may list devices');
      return;
    }
    if (page instanceof HttpError) {
      refuse(res, page.code, page.message);
      return;
    }
    deps.presence.listPage(identity.tenant, page).then(
      ({ records, next }) => {
        if (aborted) return;
        // A dashboard whose token narrows its ACL sees the devices it may subscribe to, as in
        // the read API (a page may then hold fewer, even none, and still have a next).
        const devices = records
          .filter((r) => coversDevice(identity, r.deviceId))
          .map(({ tenant, ...visible }) => visible);
        sendJson(res, '200 OK', next === undefined ? { devices } : { devices, next });
      },
      (error: unknown) => {
        if (aborted) return;
        if (error instanceof BusError && error.code === 'BUS_INVALID_CURSOR') {
          refuse(res, 'invalid_cursor', 'cursor: not one this route returned');
          return;
        }
        logger.warn({ err: error }, 'presence list failed');
        sendError(res, 'presence_unavailable', 'presence store unavailable');
      },
    );
  });

  app.get('/api/devices/:id/presence', async (res, req) => {
    const request = await deviceRequest(res, req);
    if (!request) return;
    const { identity, deviceId, aborted } = request;
    const own = identity.subject === deviceId || canSpeakFor(identity, deviceId);
    if (isDeviceRole(identity) && !own) {
      refuse(
        res,
        'forbidden',
        'a device may only read its own presence (a gateway, its sub-devices’)',
      );
      return;
    }
    // The same reach as subscribing: a token narrowed to some devices sees only those.
    if (!isDeviceRole(identity) && !coversDevice(identity, deviceId)) {
      refuse(res, 'forbidden', `this token does not cover ${deviceId}`);
      return;
    }
    deps.presence.get(identity.tenant, deviceId).then(
      (record) => {
        if (aborted()) return;
        // The tenant is the caller's own; the answer leaves it out.
        const { tenant, ...visible } = record;
        sendJson(res, '200 OK', visible);
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'presence query failed');
        if (!aborted()) sendError(res, 'presence_unavailable', 'presence store unavailable');
      },
    );
  });

  // Forgets a device its tenant no longer has (it no longer counts against the tenant's limit
  // of devices, nor shows in the list): service tokens only, and only while it is offline.
  app.del('/api/devices/:id', async (res, req) => {
    const request = await deviceRequest(res, req);
    if (!request) return;
    const { identity, deviceId, aborted } = request;
    if (identity.role !== 'service') {
      refuse(res, 'role_not_allowed', 'only service tokens may forget devices');
      return;
    }
    if (!coversDevice(identity, deviceId)) {
      refuse(res, 'forbidden', `this token does not cover ${deviceId}`);
      return;
    }
    deps.presence.forget(identity.tenant, deviceId).then(
      (result) => {
        if (aborted()) return;
        if (result === 'forgotten') sendJson(res, '200 OK', { deviceId, forgotten: true });
        else if (result === 'held') {
          refuse(res, 'device_connected', `${deviceId} is connected (or its node not reaped yet)`);
        } else refuse(res, 'not_found', `no device ${deviceId} is known`);
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'presence forget failed');
        if (!aborted()) sendError(res, 'presence_unavailable', 'presence store unavailable');
      },
    );
  });

  // Other methods on these routes: 405 with what they take (not the catch-all's 404).
  const allowed: [string, string][] = [
    ['/api/commands', 'POST'],
    ['/api/devices', 'GET'],
    ['/api/devices/:id', 'DELETE'],
    ['/api/devices/:id/presence', 'GET'],
  ];
  for (const [route, allow] of allowed)
    app.any(route, methodNotAllowed(metrics.httpRefusals, allow));
}
