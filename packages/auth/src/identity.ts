import { patternCovers, patternProblem, topicMatches } from '@fleetwire/protocol';
import { z } from 'zod';

export const ROLES = ['device', 'dashboard', 'service'] as const;
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
}

/** `{sub}` in an ACL pattern stands for the token's subject. */
const AclPattern = z
  .string()
  .refine((p) => patternProblem(p.replaceAll('{sub}', 'x')) === undefined, {
    message: 'not a valid topic pattern',
  });

export const FleetwireClaims = z.object({
  sub: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:@-]+$/, 'letters, digits and _ . : @ - only'),
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
});
export type FleetwireClaims = z.infer<typeof FleetwireClaims>;

const DEFAULT_ACL: Record<Role, { pub: string[]; sub: string[]; command: boolean }> = {
  device: { pub: ['devices/{sub}/#'], sub: ['devices/{sub}/#'], command: false },
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
  };
}

/** The subtree a device owns; claims can narrow it, never widen it. */
export function deviceSubtree(subject: string): string {
  return `devices/${subject}/#`;
}

export function canPublish(identity: Identity, topic: string): boolean {
  if (identity.role === 'device' && !topicMatches(deviceSubtree(identity.subject), topic)) {
    return false;
  }
  return identity.publish.some((pattern) => topicMatches(pattern, topic));
}

export function canSubscribe(identity: Identity, pattern: string): boolean {
  return identity.subscribe.some((allowed) => patternCovers(allowed, pattern));
}
