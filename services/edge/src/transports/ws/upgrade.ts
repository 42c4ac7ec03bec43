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
  verifier: Pick<TokenVerifier, 'verify'>;
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
 * upgrade): the session ids and the connection count are the core's, whichever transport.
 */
export function upgradeContext(
  deps: Pick<UpgradeContext, 'verifier' | 'metrics' | 'logger' | 'limits' | 'accepting'>,
  core: Pick<SessionCore, 'connectionCount' | 'nextSessionId'>,
): UpgradeContext {
  return {
    verifier: deps.verifier,
    metrics: deps.metrics,
    logger: deps.logger,
    limits: deps.limits,
    accepting: deps.accepting,
    openConnections: () => core.connectionCount,
    nextSessionId: () => core.nextSessionId(),
  };
}

/** The echoed subprotocol decides the format when it names one; else `?format=`. */
function chooseFormat(query: string, chosenProtocol: string): WireFormat {
  if (chosenProtocol === 'fleetwire.v1.msgpack') return 'msgpack';
  if (chosenProtocol === 'fleetwire.v1.json') return 'json';
  return new URLSearchParams(query).get('format') === 'msgpack' ? 'msgpack' : 'json';
}

/**
 * The upgrade handler: every check happens here, before a socket exists. Verifying the token may
 * wait for its issuer's keys, so everything is copied out of `req` first (it is only valid until
 * the first await), onAborted is registered before awaiting, and the answer (the upgrade or a
 * refusal) is written corked, never once the client has gone.
 */
export async function handleUpgrade<UserData = WsUserData>(
  ctx: UpgradeContext,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
  profile: UpgradeProfile<UserData> = WS_PROFILE as unknown as UpgradeProfile<UserData>,
): Promise<void> {
  const key = req.getHeader('sec-websocket-key');
  const version = req.getHeader('sec-websocket-version');
  const protocolHeader = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const authorization = req.getHeader('authorization');
  const query = req.getQuery() ?? '';
  const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
  let aborted = false;

  const refused = (reason: HttpErrorCode, message: string, auth = false): void => {
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
  };
  /** Draining and capacity: checked again once the token is verified, which may take a while. */
  const admissible = (): boolean => {
    if (!ctx.accepting()) {
      refused('draining', 'this node is shutting down');
      return false;
    }
    if (ctx.openConnections() >= ctx.limits.maxConnections) {
      refused('node_full', 'this node holds its maximum number of connections');
      return false;
    }
    return true;
  };

  if (!KEY.test(key)) return refused('bad_handshake', 'Sec-WebSocket-Key is not 16 base64 bytes');
  if (version !== '13') return refused('bad_version', 'only WebSocket version 13 is supported');
  if (!admissible()) return;

  const protocols = protocolHeader
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const token = extractToken({ authorization, protocols: protocolHeader, query });
  if (token === undefined && profile.tokenRequired) {
    return refused(
      'token_missing',
      'no token (Authorization, Sec-WebSocket-Protocol or ?token=)',
      true,
    );
  }

  res.onAborted(() => {
    aborted = true;
  });
  let identity: Identity | undefined;
  try {
    identity = token === undefined ? undefined : await ctx.verifier.verify(token);
  } catch (error) {
    if (error instanceof AuthError) return refused(error.code, error.message, true);
    ctx.logger.error({ err: error, remote }, 'upgrade failed');
    if (!aborted) sendError(res, 'internal', 'internal error');
    return;
  }
  if (aborted || !admissible()) return;

  // Echo a subprotocol of the transport if one was offered; never echo the token-bearing entry.
  const chosen = protocols.find((p) => profile.subprotocols.includes(p)) ?? '';
  const userData = profile.userData(
    {
      identity,
      chosen,
      query,
      remote,
      sessionId: ctx.nextSessionId(),
    },
    ctx.limits,
  );
  res.cork(() => {
    res.upgrade(userData, key, chosen, extensions, context);
  });
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
