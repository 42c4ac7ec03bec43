import { z } from 'zod';

/** A device id: the `sub` of a device token. */
export const DEVICE_ID = /^[A-Za-z0-9_.:@-]+$/;

/** At most this many ids in a gateway token: the token travels in every upgrade. */
export const MAX_SUBDEVICE_IDS = 1024;

/**
 * The sub-devices a gateway token may speak for: a list of ids and/or one id pattern in which
 * `*` stands for any run of id characters (`flat-12-*`). Either may be absent, not both.
 */
export const SubDeviceClaim = z
  .object({
    ids: z
      .array(z.string().min(1).max(128).regex(DEVICE_ID, 'not a device id'))
      .max(MAX_SUBDEVICE_IDS)
      .optional(),
    pattern: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_.:@*-]+$/, 'device id characters and * only')
      .optional(),
  })
  .refine((claim) => claim.ids !== undefined || claim.pattern !== undefined, {
    message: 'names no sub-devices (ids or pattern)',
  });
export type SubDeviceClaim = z.infer<typeof SubDeviceClaim>;

/** The sub-devices of a gateway identity, ready to test ids against. */
export interface SubDeviceScope {
  ids: ReadonlySet<string>;
  pattern?: string;
}

export function subDeviceScope(claim: SubDeviceClaim): SubDeviceScope {
  return {
    ids: new Set(claim.ids ?? []),
    ...(claim.pattern === undefined ? {} : { pattern: claim.pattern }),
  };
}

/**
 * `*`-glob match without a regular expression: the classic two-pointer walk that backtracks
 * only to the last star, O(pattern × id) at worst, both at most 128 characters.
 */
export function idGlobMatches(pattern: string, id: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let resume = 0;
  while (i < id.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === id[i]) {
      p += 1;
      i += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = i;
      p += 1;
    } else if (star >= 0) {
      p = star + 1;
      resume += 1;
      i = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

export function scopeCovers(scope: SubDeviceScope, deviceId: string): boolean {
  if (scope.ids.has(deviceId)) return true;
  return scope.pattern !== undefined && idGlobMatches(scope.pattern, deviceId);
}
