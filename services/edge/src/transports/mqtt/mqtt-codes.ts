import { CloseCode, ErrorCode } from '@fleetwire/protocol';
import { generate } from 'mqtt-packet';

/**
 * The MQTT return and reason codes the edge sends, and how Fleetwire's own codes map onto them.
 * docs/mqtt.md is the reader's copy.
 */

/** Protocol levels: 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
export type MqttVersion = 4 | 5;

/** Why a CONNECT is refused, in Fleetwire's words. */
export type ConnectRefusal =
  | 'unsupported_version'
  | 'client_id_rejected'
  | 'bad_credentials'
  | 'not_authorized'
  | 'server_unavailable'
  | 'server_busy'
  | 'bad_auth_method'
  | 'bad_will'
  | 'qos_not_supported'
  | 'retain_not_supported'
  | 'quota_exceeded';

/** CONNACK: 3.1.1 return codes (§3.2.2.3) and 5.0 reason codes (§3.2.2.2). */
const CONNACK: Record<ConnectRefusal, { v4: number; v5: number }> = {
  unsupported_version: { v4: 0x01, v5: 0x84 },
  client_id_rejected: { v4: 0x02, v5: 0x85 },
  server_unavailable: { v4: 0x03, v5: 0x88 },
  server_busy: { v4: 0x03, v5: 0x89 },
  bad_credentials: { v4: 0x04, v5: 0x86 },
  not_authorized: { v4: 0x05, v5: 0x87 },
  bad_auth_method: { v4: 0x05, v5: 0x8c },
  bad_will: { v4: 0x05, v5: 0x90 },
  // MQTT 5 only (3.1.1 has no such refusal): the v4 code is never sent.
  qos_not_supported: { v4: 0x05, v5: 0x9b },
  retain_not_supported: { v4: 0x05, v5: 0x9a },
  // A device new to a tenant at its limit of devices; 3.1.1 has only "server unavailable".
  quota_exceeded: { v4: 0x03, v5: 0x97 },
};

export function connackCode(refusal: ConnectRefusal, version: MqttVersion): number {
  return version === 5 ? CONNACK[refusal].v5 : CONNACK[refusal].v4;
}

/** The CONNACK that refuses a CONNECT, in its protocol level's form (5.0 with the reason text). */
export function refusalConnack(
  refusal: ConnectRefusal,
  version: MqttVersion,
  reason: string,
): Buffer {
  const code = connackCode(refusal, version);
  return generate(
    version === 5
      ? {
          cmd: 'connack',
          reasonCode: code,
          sessionPresent: false,
          properties: { reasonString: reason },
        }
      : { cmd: 'connack', returnCode: code, sessionPresent: false },
    { protocolVersion: version },
  );
}

/** The refusal for a token the verifier refused (AuthError codes, see @fleetwire/auth). */
export function refusalOfAuthError(code: string): ConnectRefusal {
  if (code === 'token_keys_unavailable') return 'server_unavailable';
  if (code === 'claims_invalid' || code === 'tenant_not_allowed') return 'not_authorized';
  return 'bad_credentials';
}

/** MQTT 5 PUBACK reason code (§3.4.2.1) for a PUBLISH the core refused with `error`. */
export function pubackReason(code: string): number {
  switch (code) {
    case ErrorCode.Forbidden:
    case ErrorCode.NotAllowed:
      return 0x87; // Not authorized
    case ErrorCode.BadTopic:
      return 0x90; // Topic Name invalid
    case ErrorCode.BadFrame:
    case ErrorCode.LimitExceeded:
    case ErrorCode.BadMessage:
      return 0x99; // Payload format invalid
    case ErrorCode.RateLimited:
      return 0x97; // Quota exceeded
    default:
      return 0x80; // Unspecified error
  }
}

/** MQTT 5 SUBACK reason code (§3.9.3) for a topic filter the core refused. */
export function subackReason(code: string): number {
  switch (code) {
    case ErrorCode.Forbidden:
      return 0x87; // Not authorized
    case ErrorCode.BadTopic:
      return 0x8f; // Topic Filter invalid
    case ErrorCode.TooManySubscriptions:
    case ErrorCode.RateLimited:
      return 0x97; // Quota exceeded
    default:
      return 0x80; // Unspecified error
  }
}

/** MQTT 3.1.1 SUBACK failure return code (§3.9.3). */
export const SUBACK_FAILURE_V4 = 0x80;

/** MQTT 5 DISCONNECT reason codes the server sends (§3.14.2.1). */
export const Disconnect = {
  Unspecified: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  NotAuthorized: 0x87,
  ServerBusy: 0x89,
  ServerShuttingDown: 0x8b,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  ReceiveMaximumExceeded: 0x93,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QosNotSupported: 0x9b,
  MaximumConnectTime: 0xa0,
} as const;

/** The MQTT 5 DISCONNECT reason for a close the core asked for (its WebSocket close code). */
export function disconnectReason(closeCode: number, text: string): number {
  switch (closeCode) {
    case CloseCode.SessionReplaced:
      return Disconnect.SessionTakenOver;
    case CloseCode.TokenExpired:
      return Disconnect.MaximumConnectTime;
    case CloseCode.ServiceRestart:
      return Disconnect.ServerShuttingDown;
    case CloseCode.MessageTooBig:
      return Disconnect.PacketTooLarge;
    case CloseCode.PolicyViolation:
      return text.includes('rate') ? Disconnect.MessageRateTooHigh : Disconnect.Unspecified;
    default:
      return Disconnect.Unspecified;
  }
}

/**
 * WebSocket close codes the MQTT transport uses for its own closes (the core's are in
 * @fleetwire/protocol's CloseCode): 1002 for a broken MQTT stream, 1013 "try again later" when
 * the telemetry log did not take a QoS 1 message.
 */
export const MqttClose = {
  ProtocolError: 1002,
  TryAgainLater: 1013,
} as const;
