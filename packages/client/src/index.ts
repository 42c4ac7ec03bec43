export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
export {
  FleetwireClient,
  type ClientEvents,
  type CommandHandler,
  type ConnectionState,
  type FleetwireClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { FleetwireClientError, type ClientErrorCode } from './errors.js';
