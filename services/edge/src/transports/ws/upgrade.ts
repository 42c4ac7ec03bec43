import { AuthError, extractToken, type Identity, type TokenVerifier } from '@fleetwire/auth';
import { httpStatusOf, type HttpErrorCode, type WireFormat } from '@fleetwire/protocol';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';

import { sendError } from '../../http-json.js';
import type { EdgeMetrics } from '../../metrics.js';
import type { SessionCore } from '../../core/session-core.js';
import { createSession } from '../../core/session.js';
import type { WsUserData } from './ws-connection.js';
import type { EdgeLimits } from '../../config.js';

/** Subprotocols the server answers with; `bearer.<jwt>` entries only carry the token. */
export const SUBPROTOCOLS = ['fleetwire.v1', 'fleetwire.v1.json', 'fleetwire.v1.msgpack'] as const;

const KEY = /^[A-Za-z0-9+/]{22}==$/;

export interface UpgradeContext {
  /**
   * `verifyNow`, when there, answers at once whenever the keys are in hand: the upgrade then
   * completes inside uWS's handler (no await, no onAborted, no separate cork) and only a token
   * that needs a key fetch takes the asynchronous path through `verify`.
   */
  verifier: Pick<TokenVerifier, 'verify'> & Partial<Pick<TokenVerifier, 'verifyNow'>>;
  metrics: EdgeMetrics;
  logger: Logger;
  limits: EdgeLimits;
  /** Refuse with 503 when false (draining) or when the node is full. */
  accepting: () => boolean;
  openConnections: () => number;
  nextSessionId: () => number;
}

/** What the upgrade hands a transport once every check passed. */
export interface UpgradeOutcome {
  /** The token's identity; undefined when the transport takes the token later (MQTT CONNECT). */
  identity: Identity | undefined;
  /** The subprotocol echoed to the client ('' for none). */
  chosen: string;
  query: string;
  remote: string;
  sessionId: number;
}

/** How one transport's upgrade differs: the subprotocols it echoes and its user data. */
export interface UpgradeProfile<UserData> {
  /** Subprotocols the server may echo: the first one the client offered is chosen. */
  subprotocols: readonly string[];
  /** False: an upgrade without a token is let through (the transport authenticates later). */
  tokenRequired: boolean;
  userData(outcome: UpgradeOutcome, limits: EdgeLimits): UserData;
}

/**
 * What every transport's upgrade needs from the node, built once per transport (not per
 * upgrade): the session ids and the connection count (sessions, and sockets waiting for one)
 * are the core's, whichever transport.
 */
export function upgradeContext(
  deps: Pick<UpgradeContext, 'verifier' | 'metrics' | 'logger' | 'limits' | 'accepting'>,
  core: Pick<SessionCore, 'connectionCount' | 'socketsWaiting' | 'nextSessionId'>,
): UpgradeContext {
  return {
    verifier: deps.verifier,
    metrics: deps.metrics,
    logger: deps.logger,
    limits: deps.limits,
    accepting: deps.accepting,
    openConnections: () => core.connectionCount + core.socketsWaiting,
    nextSessionId: () => core.nextSessionId(),
  };
}

/** The echoed subprotocol decides the format when it names one; else `?format=`. */
function chooseFormat(query: string, chosenProtocol: string): WireFormat {
  if (chosenProtocol === 'fleetwire.v1.msgpack') return 'msgpack';
  if (chosenProtocol === 'fleetwire.v1.json') return 'json';
  if (!query.includes('format=')) return 'json';
  return new URLSearchParams(query).get('format') === 'msgpack' ? 'msgpack' : 'json';
}

/** What an upgrade copied out of `req` (valid only until the handler returns or awaits). */
interface UpgradeRequest {
  key: string;
  protocolHeader: string;
  extensions: string;
  query: string;
  remote: string;
  context: us_socket_context_t;
}

/** Refuses the upgrade: counted, logged, and answered unless the client has gone. */
function refuse(
  ctx: UpgradeContext,
  res: HttpResponse,
  remote: string,
  reason: HttpErrorCode,
  message: string,
  auth = false,
  aborted = false,
): void {
  const status = httpStatusOf(reason);
  (auth ? ctx.metrics.authFailures : ctx.metrics.upgradeRefusals).inc({ reason });
  ctx.logger.warn({ remote, status, reason }, `upgrade refused: ${message}`);
  if (aborted) return;
  sendError(
    res,
    reason,
    message,
    status === 426
      ? { 'sec-websocket-version': '13' }
      : status === 401
        ? { 'www-authenticate': `Bearer error="invalid_token", error_description="${reason}"` }
        : {},
  );
}

/** Draining and capacity: checked again once the token is verified, which may take a while. */
function admissible(ctx: UpgradeContext, res: HttpResponse, remote: string): boolean {
  if (!ctx.accepting()) {
    refuse(ctx, res, remote, 'draining', 'this node is shutting down');
    return false;
  }
  if (ctx.openConnections() >= ctx.limits.maxConnections) {
    refuse(ctx, res, remote, 'node_full', 'this node holds its maximum number of connections');
    return false;
  }
  return true;
}

/** The echoed subprotocol: the first of the transport's that the client offered, else none. */
function chosenSubprotocol(header: string, subprotocols: readonly string[]): string {
  if (header === '') return '';
  for (const entry of header.split(',')) {
    const protocol = entry.trim();
    // Never the token-bearing entry: it is not one of the transport's.
    if (protocol.length > 0 && subprotocols.includes(protocol)) return protocol;
  }
  return '';
}

function upgrade<UserData>(
  ctx: UpgradeContext,
  res: HttpResponse,
  request: UpgradeRequest,
  profile: UpgradeProfile<UserData>,
  identity: Identity | undefined,
): void {
  const chosen = chosenSubprotocol(request.protocolHeader, profile.subprotocols);
  const userData = profile.userData(
    {
      identity,
      chosen,
      query: request.query,
      remote: request.remote,
      sessionId: ctx.nextSessionId(),
    },
    ctx.limits,
  );
  res.upgrade(userData, request.key, chosen, request.extensions, request.context);
}

/**
 * The upgrade handler: every check happens here, before a socket exists. A token whose keys are
 * in hand is verified at once and the socket upgraded inside uWS's handler, as a raw uWS server
 * would. Verifying may also have to wait for its issuer's keys: then everything is copied out of
 * `req` first (it is only valid until the first await), onAborted is registered before awaiting,
 * and the answer (the upgrade or a refusal) is written corked, never once the client has gone.
 */
export function handleUpgrade<UserData = WsUserData>(
  ctx: UpgradeContext,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
  profile: UpgradeProfile<UserData> = WS_PROFILE as unknown as UpgradeProfile<UserData>,
): Promise<void> | undefined {
  const key = req.getHeader('sec-websocket-key');
  const version = req.getHeader('sec-websocket-version');
  const protocolHeader = req.getHeader('sec-websocket-protocol');
  const authorization = req.getHeader('authorization');
  const query = req.getQuery() ?? '';
  const remote = Buffer.from(res.getRemoteAddressAsText()).toString();

  if (!KEY.test(key)) {
    refuse(ctx, res, remote, 'bad_handshake', 'Sec-WebSocket-Key is not 16 base64 bytes');
    return undefined;
  }
  if (version !== '13') {
    refuse(ctx, res, remote, 'bad_version', 'only WebSocket version 13 is supported');
    return undefined;
  }
  if (!admissible(ctx, res, remote)) return undefined;

  const token = extractToken({ authorization, protocols: protocolHeader, query });
  if (token === undefined && profile.tokenRequired) {
    const message = 'no token (Authorization, Sec-WebSocket-Protocol or ?token=)';
    refuse(ctx, res, remote, 'token_missing', message, true);
    return undefined;
  }
  const request: UpgradeRequest = {
    key,
    protocolHeader,
    extensions: req.getHeader('sec-websocket-extensions'),
    query,
    remote,
    context,
  };
  if (token === undefined) {
    upgrade(ctx, res, request, profile, undefined);
    return undefined;
  }
  if (ctx.verifier.verifyNow) {
    let identity: Identity | undefined;
    try {
      identity = ctx.verifier.verifyNow(token);
    } catch (error) {
      failed(ctx, res, remote, error, false);
      return undefined;
    }
    if (identity !== undefined) {
      upgrade(ctx, res, request, profile, identity);
      return undefined;
    }
  }
  return upgradeLater(ctx, res, request, profile, token);
}

/** The token could not be verified: refused for an AuthError, 500 (logged) for anything else. */
function failed(
  ctx: UpgradeContext,
  res: HttpResponse,
  remote: string,
  error: unknown,
  aborted: boolean,
): void {
  if (error instanceof AuthError) {
    refuse(ctx, res, remote, error.code, error.message, true, aborted);
    return;
  }
  ctx.logger.error({ err: error, remote }, 'upgrade failed');
  if (!aborted) sendError(res, 'internal', 'internal error');
}

/** The token needs its issuer's keys first (or the verifier has no `verifyNow`). */
async function upgradeLater<UserData>(
  ctx: UpgradeContext,
  res: HttpResponse,
  request: UpgradeRequest,
  profile: UpgradeProfile<UserData>,
  token: string,
): Promise<void> {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  let identity: Identity;
  try {
    identity = await ctx.verifier.verify(token);
  } catch (error) {
    failed(ctx, res, request.remote, error, aborted);
    return;
  }
  if (aborted || !admissible(ctx, res, request.remote)) return;
  res.cork(() => upgrade(ctx, res, request, profile, identity));
}

/** The JSON/MessagePack WebSocket: a token is required at the upgrade. */
export const WS_PROFILE: UpgradeProfile<WsUserData> = {
  subprotocols: SUBPROTOCOLS,
  tokenRequired: true,
  userData: ({ identity, chosen, query, remote, sessionId }, limits) => ({
    session: createSession(
      {
        id: sessionId,
        identity: identity as Identity,
        format: chooseFormat(query, chosen),
        remote,
      },
      limits,
    ),
  }),
};
