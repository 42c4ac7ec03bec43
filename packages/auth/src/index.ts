export { AuthError, type AuthFailureReason } from './errors.js';
export {
  FleetwireClaims,
  ROLES,
  canPublish,
  canSubscribe,
  deviceSubtree,
  identityFromClaims,
  type Identity,
  type Role,
} from './identity.js';
export {
  KeyLoadError,
  loadVerificationKeys,
  type Algorithm,
  type KeySources,
  type VerificationKey,
} from './keys.js';
export { BEARER_PROTOCOL_PREFIX, extractToken, type TokenCarriers } from './token.js';
export { TokenVerifier, type VerifyOptions } from './verify.js';
export { AUTH_ENV, authSettings, type AuthSettings } from './settings.js';
