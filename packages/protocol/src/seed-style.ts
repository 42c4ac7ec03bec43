import { ErrorCode } from './codes.js';
import { parseDeviceTimestamp } from './device-timestamp.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Device messages shaped as IoT tutorials teach them, e.g.
 * `{"device_id":"sensor-001","type":"temperature_update","value":23.5,"timestamp":"2025-05-29T12:45:00Z"}`
 * or `{"type":"status","battery":80}` or `{"type":"ack"}`, made into protocol messages before the
 * schema checks them. docs/protocol.md ("Seed-style messages") is the reader's copy of the rules.
 */
export interface SeedStyle {
  /** The message for the schema to check (the frame itself when no rule changed it). */
  message: Record<string, unknown>;
  /** The device's `timestamp`, ms since the epoch, when it gave one. */
  ts?: number;
}

/** Fields that say what the message is, not what it carries. */
const ENVELOPE = new Set(['type', 'id']);

/** Every field but `type` and `id`: a status or update sent without a `data` object. */
function plainFields(value: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!ENVELOPE.has(key)) data[key] = value[key];
  }
  return data;
}

function withTs(message: Record<string, unknown>, ts: number | undefined): Record<string, unknown> {
  return ts === undefined || message['ts'] !== undefined ? message : { ...message, ts };
}

/**
 * Applies the seed-style rules to a frame from the device `deviceId`. Throws ProtocolError with
 * `device_mismatch` when `device_id` names another device, `bad_message` for a timestamp that is
 * not one.
 */
export function seedStyle(
  value: Record<string, unknown>,
  deviceId: string,
  ref: string | undefined,
): SeedStyle {
  if ('device_id' in value && value['device_id'] !== deviceId) {
    const named = value['device_id'];
    const text =
      typeof named === 'string'
        ? `device_id "${named.slice(0, 128)}" is not this connection's device "${deviceId}" (the token's sub)`
        : `device_id must be this connection's device "${deviceId}" (the token's sub), not ${named === null ? 'null' : `a ${typeof named}`}`;
    throw new ProtocolError(ErrorCode.DeviceMismatch, text, ref);
  }
  const ts =
    value['timestamp'] === undefined ? undefined : parseDeviceTimestamp(value['timestamp'], ref);
  const found = ts === undefined ? {} : { ts };
  switch (value['type']) {
    case 'status':
      return {
        message: 'data' in value ? value : { ...value, data: plainFields(value) },
        ...found,
      };
    case 'update': {
      // A device's state update is its telemetry, with its fields or its `data` as the data.
      const data = 'data' in value ? value['data'] : plainFields(value);
      const id = value['id'] === undefined ? {} : { id: value['id'] };
      return { message: withTs({ type: 'telemetry', ...id, data }, ts), ...found };
    }
    case 'telemetry':
      return { message: withTs(value, ts), ...found };
    case 'ack':
    case 'nack':
      // `ref` names the command as well as `id` does; neither means the oldest pending one.
      if (value['id'] === undefined && value['ref'] !== undefined) {
        return { message: { ...value, id: value['ref'] }, ...found };
      }
      return { message: value, ...found };
    default:
      return { message: value, ...found };
  }
}
