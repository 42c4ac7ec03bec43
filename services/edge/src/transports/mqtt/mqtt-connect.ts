import {
  AuthError,
  canPublish,
  isDeviceRole,
  type Identity,
  type TokenVerifier,
} from '@fleetwire/auth';
import { ProtocolError, type DecodeLimits } from '@fleetwire/protocol';
import type { IConnectPacket } from 'mqtt-packet';

import { refusalOfAuthError, type ConnectRefusal, type MqttVersion } from './mqtt-codes.js';
import { messageOfPublish, notUtf8 } from './mqtt-topics.js';

/** A Last Will, checked at CONNECT and published if the connection ends without DISCONNECT. */
export interface Will {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export type ConnectOutcome =
  | {
      ok: true;
      identity: Identity;
      version: MqttVersion;
      clientId: string;
      /** Set when the edge chose the client id (the client sent an empty one). */
      assignedClientId?: string;
      keepaliveSec: number;
      will?: Will;
      /** MQTT 5: the client asked for a session that outlives the connection. */
      wantedSession: boolean;
      /** MQTT 5 Request Problem Information (default 1): Reason Strings wanted on acks. */
      problemInformation: boolean;
    }
  | { ok: false; version: MqttVersion; refusal: ConnectRefusal; reason: string; authCode?: string };

export interface ConnectContext {
  verifier: Pick<TokenVerifier, 'verify'>;
  /** The identity of a token carried by the upgrade, if any (it wins over the password). */
  upgradeIdentity: Identity | undefined;
  decodeLimits: DecodeLimits;
  sessionId: number;
  /** Retained messages are kept (CONNACK's Retain Available). */
  retainAvailable: boolean;
}

/**
 * Checks a CONNECT (MQTT 3.1.1 §3.1, 5.0 §3.1): protocol level, credentials (the JWT as the
 * password, or as the username when there is no password, unless the upgrade carried one; the
 * username is otherwise not checked: the token is the credential),
 * client id (a device's is its `sub`) and the Will (its topic and payload as a PUBLISH would be,
 * and the ACL).
 */
export async function admitConnect(
  packet: IConnectPacket,
  ctx: ConnectContext,
): Promise<ConnectOutcome> {
  const level = packet.protocolVersion ?? 4;
  const version: MqttVersion = level === 5 ? 5 : 4;
  const refuse = (refusal: ConnectRefusal, reason: string, authCode?: string): ConnectOutcome => ({
    ok: false,
    version,
    refusal,
    reason,
    ...(authCode === undefined ? {} : { authCode }),
  });
  if (level !== 4 && level !== 5) {
    return refuse('unsupported_version', `MQTT protocol level ${level} (only 4 = 3.1.1 and 5)`);
  }
  if (packet.properties?.authenticationMethod !== undefined) {
    return refuse('bad_auth_method', 'enhanced authentication is not supported');
  }
  let identity = ctx.upgradeIdentity;
  if (!identity) {
    // The password carries the token; a client that can set only a username may put it there.
    const password = packet.password?.toString('utf8') ?? '';
    const token = password !== '' ? password : (packet.username ?? '');
    if (token === '') {
      return refuse('not_authorized', 'no token: send the JWT as the password', 'token_missing');
    }
    try {
      identity = await ctx.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return refuse(refusalOfAuthError(error.code), error.message, error.code);
    }
  }
  const clean = packet.clean !== false;
  let clientId = packet.clientId;
  let assignedClientId: string | undefined;
  if (clientId === '') {
    // 3.1.1 §3.1.3-8: an empty client id needs CleanSession = 1.
    if (version === 4 && !clean) {
      return refuse('client_id_rejected', 'an empty client id needs a clean session');
    }
    clientId = isDeviceRole(identity) ? identity.subject : `${identity.subject}:${ctx.sessionId}`;
    assignedClientId = clientId;
  } else if (isDeviceRole(identity) && clientId !== identity.subject) {
    return refuse('client_id_rejected', 'a device’s client id is its token’s sub');
  }
  let will: Will | undefined;
  if (packet.will && version === 5) {
    // 5.0 §3.2.2.3.4, §3.2.2.3.5: a Will beyond what CONNACK announces is refused at CONNECT.
    // (3.1.1 has no code for it: its Will goes out as every delivery does, at QoS 0.)
    if ((packet.will.qos ?? 0) > 1) {
      return refuse('qos_not_supported', 'Will QoS 2: the maximum QoS is 1');
    }
    if (packet.will.retain && !ctx.retainAvailable) {
      return refuse('retain_not_supported', 'Will Retain: retained messages are turned off');
    }
  }
  if (packet.will) {
    if (notUtf8([packet.will.topic])) return refuse('bad_will', 'Will: topic is not valid UTF-8');
    const payload = Buffer.isBuffer(packet.will.payload)
      ? packet.will.payload
      : Buffer.from(packet.will.payload);
    try {
      messageOfPublish(identity, { topic: packet.will.topic, payload }, ctx.decodeLimits);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return refuse('bad_will', `Will: ${error.message}`);
    }
    if (!canPublish(identity, packet.will.topic)) {
      return refuse('not_authorized', `Will: may not publish to ${packet.will.topic}`);
    }
    will = { topic: packet.will.topic, payload, retain: packet.will.retain === true };
  }
  return {
    ok: true,
    identity,
    version,
    clientId,
    ...(assignedClientId === undefined ? {} : { assignedClientId }),
    keepaliveSec: packet.keepalive ?? 0,
    ...(will ? { will } : {}),
    wantedSession: (packet.properties?.sessionExpiryInterval ?? 0) > 0,
    problemInformation: packet.properties?.requestProblemInformation !== false,
  };
}
