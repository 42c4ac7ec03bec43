export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
export { FleetwireClient } from './client.js';
export { DEFAULT_RATE_LIMIT, type RateLimit } from './pacer.js';
export { DeviceStream, type StreamOptions } from './device-stream.js';
export { topicMatches } from './positions.js';
export { SubDevice } from './sub-device.js';
export type {
  ClientEvents,
  CommandHandler,
  ConnectionState,
  DesiredHandler,
  FleetwireClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export { FleetwireClientError, type ClientErrorCode } from './errors.js';
