import { patternCovers, patternProblem, topicMatches } from '@fleetwire/protocol';
import { z } from 'zod';

import { expandPattern, sharedAcl, type Acl } from './acl.js';
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
  readonly publish: string[];
  /** Patterns this identity may subscribe within (a request must be covered by one). */
  readonly subscribe: string[];
  /** May send commands to the devices of its tenant. */
  readonly command: boolean;
  /** Token expiry, ms since the epoch. */
  expiresAt?: number;
  /** A gateway's sub-devices (the `subdevices` claim); absent for every other role. */
  subDevices?: SubDeviceScope;
}

/**
 * An identity from a token: its ACL is shared (see acl.ts), and `publish` / `subscribe` are
 * expanded for the subject only when read; the ACL checks below read the shared patterns.
 */
class TokenIdentity implements Identity {
  constructor(
    readonly subject: string,
    readonly role: Role,
    readonly tenant: string,
    readonly acl: Acl,
    readonly expiresAt: number | undefined,
    readonly subDevices: SubDeviceScope | undefined,
  ) {}

  get publish(): string[] {
    return this.acl.publish.map((p) => expandPattern(p, this.subject));
  }

  get subscribe(): string[] {
    return this.acl.subscribe.map((p) => expandPattern(p, this.subject));
  }

  get command(): boolean {
    return this.acl.command;
  }
}

/** The shared ACL of an identity made from a token; undefined for one built by hand. */
export function aclOf(identity: Identity): Acl | undefined {
  return identity instanceof TokenIdentity ? identity.acl : undefined;
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

/** Role names as constants: the claim's copy of the string would be kept per identity. */
const ROLE_NAMES = Object.fromEntries(ROLES.map((r) => [r, r])) as Record<Role, Role>;

/** Tenants are few and every identity names one: one copy of each name (bounded). */
const tenants = new Map<string, string>();
const MAX_TENANTS = 10_000;

function tenantName(tenant: string): string {
  const known = tenants.get(tenant);
  if (known !== undefined) return known;
  if (tenants.size < MAX_TENANTS) tenants.set(tenant, tenant);
  return tenant;
}

export function identityFromClaims(claims: FleetwireClaims): Identity {
  const role = ROLE_NAMES[claims.role];
  return new TokenIdentity(
    claims.sub,
    role,
    tenantName(claims.tenant),
    sharedAcl(role, claims.acl),
    claims.exp === undefined ? undefined : claims.exp * 1000,
    claims.subdevices === undefined ? undefined : subDeviceScope(claims.subdevices),
  );
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
  const acl = aclOf(identity);
  if (!acl) return identity.publish.some((pattern) => topicMatches(pattern, topic));
  return acl.publish.some((p) => topicMatches(expandPattern(p, identity.subject), topic));
}

/**
 * Whether the token reaches a device: may subscribe to its whole subtree. The one rule for
 * watching, listing, commanding and changing the state of other devices.
 */
export function coversDevice(identity: Identity, deviceId: string): boolean {
  return canSubscribe(identity, deviceSubtree(deviceId));
}

export function canSubscribe(identity: Identity, pattern: string): boolean {
  const acl = aclOf(identity);
  if (!acl) return identity.subscribe.some((allowed) => patternCovers(allowed, pattern));
  return acl.subscribe.some((p) => patternCovers(expandPattern(p, identity.subject), pattern));
}
