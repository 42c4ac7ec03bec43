import { patternCovers, patternProblem, topicMatches } from '@fleetwire/protocol';
import { z } from 'zod';

import {
  DEVICE_ID,
  SubDeviceClaim,
  scopeCovers,
  subDeviceScope,
  type SubDeviceScope,
} from './subdevices.js';

/** A `gateway` is a device that also speaks for the sub-devices its token names. */
export const ROLES = ['device', 'gateway', 'dashboard', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who a connection is, from its token. Topics and patterns here are tenant-relative. */
export interface Identity {
  subject: string;
  role: Role;
  tenant: string;
  /** Patterns of topics this identity may publish to. */
  publish: string[];
  /** Patterns this identity may subscribe within (a request must be covered by one). */
  subscribe: string[];
  /** May send commands to the devices of its tenant. */
  command: boolean;
  /** Token expiry, ms since the epoch. */
  expiresAt?: number;
  /** A gateway's sub-devices (the `subdevices` claim); absent for every other role. */
  subDevices?: SubDeviceScope;
}

/** `{sub}` in an ACL pattern stands for the token's subject. */
const AclPattern = z
  .string()
  .refine((p) => patternProblem(p.replaceAll('{sub}', 'x')) === undefined, {
    message: 'not a valid topic pattern',
  });

export const FleetwireClaims = z
  .object({
    sub: z.string().min(1).max(128).regex(DEVICE_ID, 'letters, digits and _ . : @ - only'),
    role: z.enum(ROLES),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, _ and - (1–63 chars)'),
    acl: z
      .object({
        pub: z.array(AclPattern).max(64).optional(),
        sub: z.array(AclPattern).max(64).optional(),
      })
      .optional(),
    exp: z.number().optional(),
    /** Gateways only: the devices it may speak for (see subdevices.ts). */
    subdevices: SubDeviceClaim.optional(),
  })
  .refine((claims) => (claims.role === 'gateway') === (claims.subdevices !== undefined), {
    message: 'a gateway token names its subdevices, and only a gateway token does',
    path: ['subdevices'],
  });
export type FleetwireClaims = z.infer<typeof FleetwireClaims>;

const DEFAULT_ACL: Record<Role, { pub: string[]; sub: string[]; command: boolean }> = {
  device: { pub: ['devices/{sub}/#'], sub: ['devices/{sub}/#'], command: false },
  // Bounded per speaker by canPublishAs: its own subtree, or the sub-device's it speaks for.
  gateway: { pub: ['devices/#'], sub: ['devices/{sub}/#'], command: false },
  dashboard: { pub: [], sub: ['devices/#'], command: true },
  service: { pub: ['#'], sub: ['#'], command: true },
};

export function identityFromClaims(claims: FleetwireClaims): Identity {
  const defaults = DEFAULT_ACL[claims.role];
  const expand = (patterns: string[]): string[] =>
    patterns.map((p) => p.replaceAll('{sub}', claims.sub));
  return {
    subject: claims.sub,
    role: claims.role,
    tenant: claims.tenant,
    publish: expand(claims.acl?.pub ?? defaults.pub),
    subscribe: expand(claims.acl?.sub ?? defaults.sub),
    command: defaults.command,
    ...(claims.exp === undefined ? {} : { expiresAt: claims.exp * 1000 }),
    ...(claims.subdevices === undefined ? {} : { subDevices: subDeviceScope(claims.subdevices) }),
  };
}

/** The subtree a device owns; claims can narrow it, never widen it. */
export function deviceSubtree(subject: string): string {
  return `devices/${subject}/#`;
}

/** Devices and gateways: they send telemetry, events and status and answer commands. */
export function isDeviceRole(identity: Identity): boolean {
  return identity.role === 'device' || identity.role === 'gateway';
}

/** Whether a gateway's token names this device (never true for other roles). */
export function canSpeakFor(identity: Identity, deviceId: string): boolean {
  return identity.subDevices !== undefined && scopeCovers(identity.subDevices, deviceId);
}

export function canPublish(identity: Identity, topic: string): boolean {
  return canPublishAs(identity, identity.subject, topic);
}

/**
 * Publishing as `speaker`: the identity itself, or a sub-device its gateway token names. A
 * device or gateway stays inside the speaker's subtree whatever its ACL says; the ACL can
 * narrow that, per sub-device as for the gateway itself.
 */
export function canPublishAs(identity: Identity, speaker: string, topic: string): boolean {
  if (speaker !== identity.subject && !canSpeakFor(identity, speaker)) return false;
  if (isDeviceRole(identity) && !topicMatches(deviceSubtree(speaker), topic)) return false;
  return identity.publish.some((pattern) => topicMatches(pattern, topic));
}

export function canSubscribe(identity: Identity, pattern: string): boolean {
  return identity.subscribe.some((allowed) => patternCovers(allowed, pattern));
}
