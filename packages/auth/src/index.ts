export { AuthError, type AuthFailureReason } from './errors.js';
export { MAX_SHARED_ACLS, type Acl } from './acl.js';
export {
  FleetwireClaims,
  aclOf,
  ROLES,
  canPublish,
  canPublishAs,
  canSpeakFor,
  canSubscribe,
  coversDevice,
  isDeviceRole,
  deviceSubtree,
  identityFromClaims,
  type Identity,
  type Role,
} from './identity.js';
export {
  MAX_SUBDEVICE_IDS,
  SubDeviceClaim,
  idGlobMatches,
  type SubDeviceScope,
} from './subdevices.js';
export {
  KeyLoadError,
  MAX_JWKS_KEYS,
  loadVerificationKeys,
  type Algorithm,
  type KeySources,
  type VerificationKey,
} from './keys.js';
export {
  DEFAULT_JWKS_MAX_BYTES,
  JwksFetchError,
  RemoteJwks,
  httpsJwksFetcher,
  type AuthLogger,
  type HttpsFetchOptions,
  type JwksFetcher,
  type RemoteJwksOptions,
  type RemoteJwksStatus,
} from './jwks.js';
export { createTokenVerifier, trustedIssuers, type VerifierDeps } from './issuers.js';
export { BEARER_PROTOCOL_PREFIX, extractToken, type TokenCarriers } from './token.js';
export {
  TokenVerifier,
  type IssuerStatus,
  type MultiIssuerOptions,
  type TrustedIssuer,
  type VerifierStatus,
  type VerifyOptions,
} from './verify.js';
export {
  AUTH_ENV,
  authSettings,
  readIssuersFile,
  type AuthSettings,
  type IssuerSettings,
  type JwksSettings,
} from './settings.js';
