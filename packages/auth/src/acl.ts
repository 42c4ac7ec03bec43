import type { Role } from './identity.js';

/**
 * What a role and its token's `acl` claim allow, compiled once and shared by every identity
 * with the same role and claim: patterns are kept with `{sub}` unexpanded, so ten thousand
 * devices with the default ACL hold one Acl instead of two arrays and two strings each.
 */
export interface Acl {
  readonly role: Role;
  /** Patterns of topics it may publish to; `{sub}` stands for the token's subject. */
  readonly publish: readonly string[];
  /** Patterns it may subscribe within; `{sub}` as above. */
  readonly subscribe: readonly string[];
  /** May send commands to the devices of its tenant. */
  readonly command: boolean;
}

const SUB = '{sub}';

/** Distinct ACLs kept; past it the oldest is forgotten (identities keep theirs). */
export const MAX_SHARED_ACLS = 1_000;

const DEFAULT_ACL: Record<Role, Acl> = {
  device: {
    role: 'device',
    publish: ['devices/{sub}/#'],
    subscribe: ['devices/{sub}/#'],
    command: false,
  },
  // Bounded per speaker by canPublishAs: its own subtree, or the sub-device's it speaks for.
  gateway: {
    role: 'gateway',
    publish: ['devices/#'],
    subscribe: ['devices/{sub}/#'],
    command: false,
  },
  dashboard: { role: 'dashboard', publish: [], subscribe: ['devices/#'], command: true },
  service: { role: 'service', publish: ['#'], subscribe: ['#'], command: true },
};
for (const acl of Object.values(DEFAULT_ACL)) Object.freeze(acl);

const shared = new Map<string, Acl>();

/**
 * The shared ACL of a role and `acl` claim (already validated). Tokens without the claim get
 * their role's defaults; a claim replaces the defaults of the lists it names.
 */
export function sharedAcl(role: Role, claim: { pub?: string[]; sub?: string[] } | undefined): Acl {
  const defaults = DEFAULT_ACL[role];
  if (claim === undefined || (claim.pub === undefined && claim.sub === undefined)) return defaults;
  const key = JSON.stringify([role, claim.pub ?? null, claim.sub ?? null]);
  let acl = shared.get(key);
  if (acl) return acl;
  acl = Object.freeze({
    role,
    publish: Object.freeze([...(claim.pub ?? defaults.publish)]),
    subscribe: Object.freeze([...(claim.sub ?? defaults.subscribe)]),
    command: defaults.command,
  });
  if (shared.size >= MAX_SHARED_ACLS) shared.delete(shared.keys().next().value!);
  shared.set(key, acl);
  return acl;
}

/** `pattern` for one subject: `{sub}` replaced (a new string only when the pattern names it). */
export function expandPattern(pattern: string, subject: string): string {
  return pattern.includes(SUB) ? pattern.replaceAll(SUB, subject) : pattern;
}
