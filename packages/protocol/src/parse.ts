import { ErrorCode } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { firstIssue } from './zod-issue.js';
import { CLIENT_MESSAGE_TYPES, ClientMessage } from './messages.js';
import { seedStyle } from './seed-style.js';

export interface ParseOptions {
  /**
   * Take an object whose `type` is not a protocol kind as the sender's own telemetry, so a
   * small device can send `{"type":"temperature_update","value":23.5}` as it is. Devices only.
   */
  bareTelemetry: boolean;
  /**
   * The sending device's id (its token's `sub`), for a frame straight from a device: applies the
   * seed-style rules (seed-style.ts) — `device_id` must be this id, `timestamp` becomes the
   * telemetry time, `status`/`update` take plain fields as data, an answer may name its command
   * by `ref` or not at all.
   */
  deviceId?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refOf(value: Record<string, unknown>): string | undefined {
  const id = value['id'];
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

/**
 * Validates a decoded frame as a client message. Throws ProtocolError: bad_message, or
 * device_mismatch from the seed-style rules.
 */
export function parseClientMessage(value: unknown, options: ParseOptions): ClientMessage {
  if (!isPlainObject(value)) {
    throw new ProtocolError(ErrorCode.BadMessage, 'a message must be an object');
  }
  const ref = refOf(value);
  const seed = options.deviceId === undefined ? undefined : seedStyle(value, options.deviceId, ref);
  const candidate = seed?.message ?? value;
  const type = value['type'];
  if (typeof candidate['type'] !== 'string' || !CLIENT_MESSAGE_TYPES.includes(candidate['type'])) {
    if (options.bareTelemetry) {
      return {
        type: 'telemetry',
        ...(ref === undefined ? {} : { id: ref }),
        ...(seed?.ts === undefined ? {} : { ts: seed.ts }),
        data: value,
      };
    }
    const shown = typeof type === 'string' ? `"${type.slice(0, 64)}"` : 'missing';
    throw new ProtocolError(ErrorCode.BadMessage, `unknown message type ${shown}`, ref);
  }
  const parsed = ClientMessage.safeParse(candidate);
  if (!parsed.success) {
    throw new ProtocolError(
      ErrorCode.BadMessage,
      `invalid ${type} message: ${firstIssue(parsed.error)}`,
      ref,
    );
  }
  return parsed.data;
}
