import { ProtocolError } from './protocol-error.js';
import { ErrorCode } from './codes.js';

/**
 * The device state document (a "shadow" or "twin"): what the cloud wants (`desired`), what the
 * device says it has (`reported`), and their difference (`delta`: the desired keys whose value
 * the device has not reported yet). Both sections are maps of top-level keys; a patch replaces
 * the keys it names and a `null` removes one (JSON merge patch, one level deep). Each key keeps
 * the time it was last set, and every change bumps `version`, which is what optimistic
 * concurrency (HTTP If-Match, `state.set` with `version`) compares.
 *
 * Pure functions: the store applies them inside its transaction, the edge and the dashboard use
 * `deltaOf` to show what is still pending.
 */
export interface DeviceStateDocument {
  deviceId: string;
  /** 0 for a device that never had state; +1 with every accepted change. */
  version: number;
  desired: StateValues;
  reported: StateValues;
  delta: StateValues;
  /** When each key was last set, ms since the epoch. */
  metadata: { desired: Record<string, number>; reported: Record<string, number> };
}

export type StateValues = Record<string, unknown>;

/** One section as stored: its values and when each key was last set. */
export interface StateSection {
  values: StateValues;
  updatedAt: Record<string, number>;
}

/**
 * Bounds of one section after a patch is applied: a device's state is a handful of settings,
 * not a data store. Frames are already bounded by the decode limits; these are tighter, so a
 * document stays small enough to send on every connect.
 */
export const STATE_LIMITS = Object.freeze({
  /** Top-level keys per section. */
  maxKeys: 64,
  /** Nesting below a key, the key's own value counting as 1. */
  maxDepth: 6,
  /** The section's JSON, in UTF-8 bytes. */
  maxBytes: 8 * 1024,
});

const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/** An empty document: what a device that never had state has. */
export function emptyState(deviceId: string): DeviceStateDocument {
  return {
    deviceId,
    version: 0,
    desired: {},
    reported: {},
    delta: {},
    metadata: { desired: {}, reported: {} },
  };
}

/** Deepest nesting of a value (a scalar is 1), walked with an explicit stack: no recursion. */
function depthOf(value: unknown, stop: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (deepest > stop) return deepest;
    if (typeof item === 'object' && item !== null) {
      for (const child of Object.values(item)) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/**
 * Why a patch cannot be applied, or undefined: a key that is not a state key (`bad_message`),
 * or over the bounds (`limit_exceeded`).
 */
export function statePatchProblem(
  patch: StateValues,
):
  | { code: typeof ErrorCode.BadMessage | typeof ErrorCode.LimitExceeded; message: string }
  | undefined {
  const keys = Object.keys(patch);
  if (keys.length > STATE_LIMITS.maxKeys) {
    return { code: ErrorCode.LimitExceeded, message: `at most ${STATE_LIMITS.maxKeys} keys` };
  }
  for (const key of keys) {
    if (!KEY.test(key)) {
      const message = `key ${JSON.stringify(key.slice(0, 64))}: 1–64 of A-Z a-z 0-9 _ . : -`;
      return { code: ErrorCode.BadMessage, message };
    }
    if (depthOf(patch[key], STATE_LIMITS.maxDepth) > STATE_LIMITS.maxDepth) {
      const message = `key ${key}: nested deeper than ${STATE_LIMITS.maxDepth} levels`;
      return { code: ErrorCode.LimitExceeded, message };
    }
  }
  return undefined;
}

/** Why a section is over its bounds after a patch, or undefined. */
export function stateSectionProblem(values: StateValues): string | undefined {
  if (Object.keys(values).length > STATE_LIMITS.maxKeys) {
    return `a section holds at most ${STATE_LIMITS.maxKeys} keys`;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(values)).length;
  if (bytes > STATE_LIMITS.maxBytes) {
    return `a section holds at most ${STATE_LIMITS.maxBytes} bytes of JSON (${bytes} after this patch)`;
  }
  return undefined;
}

/**
 * Applies a patch to a section: named keys replaced, `null` removes. Throws
 * ProtocolError(bad_message) for a key that is no state key, ProtocolError(limit_exceeded) when
 * the patch or the result is over STATE_LIMITS.
 */
export function applyStatePatch(
  section: StateSection,
  patch: StateValues,
  now: number,
): StateSection {
  const problem = statePatchProblem(patch);
  if (problem) throw new ProtocolError(problem.code, `state: ${problem.message}`);
  const values = { ...section.values };
  const updatedAt = { ...section.updatedAt };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete values[key];
      delete updatedAt[key];
    } else {
      values[key] = value;
      updatedAt[key] = now;
    }
  }
  const over = stateSectionProblem(values);
  if (over) throw new ProtocolError(ErrorCode.LimitExceeded, `state: ${over}`);
  return { values, updatedAt };
}

/**
 * One canonical text per JSON value (object keys sorted), so equal values compare equal however
 * their keys were ordered (jsonb reorders them). Recursive, but only over values already held
 * to STATE_LIMITS.maxDepth.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The desired keys whose value the device has not reported (yet). */
export function deltaOf(desired: StateValues, reported: StateValues): StateValues {
  const delta: StateValues = {};
  for (const [key, value] of Object.entries(desired)) {
    if (!Object.hasOwn(reported, key) || canonical(reported[key]) !== canonical(value)) {
      delta[key] = value;
    }
  }
  return delta;
}

/** The document of two stored sections. */
export function stateDocument(
  deviceId: string,
  version: number,
  desired: StateSection,
  reported: StateSection,
): DeviceStateDocument {
  return {
    deviceId,
    version,
    desired: desired.values,
    reported: reported.values,
    delta: deltaOf(desired.values, reported.values),
    metadata: { desired: desired.updatedAt, reported: reported.updatedAt },
  };
}
