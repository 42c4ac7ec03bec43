export { CloseCode, CloseReason, ErrorCode, NackReason } from './codes.js';
export { ProtocolError, decodeFrame, decodeJson, decodeMsgpack, encodeMessage } from './codec.js';
export { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode-limits.js';
export {
  CLIENT_MESSAGE_TYPES,
  ClientMessage,
  CommandRequestBody,
  StatePatchBody,
  type ClientMessageType,
  type DeliveryMessage,
  type DetachedMessage,
  type ErrorMessage,
  type GapMessage,
  type GapReason,
  type RecoveryFailure,
  type RecoveryMessage,
  StreamPosition,
  type PongMessage,
  type ServerAckMessage,
  type ServerCommandMessage,
  type ServerMessage,
  type ServerNackMessage,
  type StateMessage,
  type WelcomeMessage,
  type WireFormat,
} from './messages.js';
export { parseClientMessage, type ParseOptions } from './parse.js';
export {
  MAX_TOPIC_LENGTH,
  MAX_TOPIC_LEVELS,
  PatternIndex,
  patternCovers,
  patternProblem,
  topicMatches,
  topicProblem,
  isEdgeTopic,
} from './topics.js';
export {
  WRAPPED_DECODE_LIMITS,
  TelemetryRecord,
  type TelemetryPoint,
  TelemetryRecordError,
  decodeTelemetryRecord,
  encodeTelemetryRecord,
  telemetryRecordKey,
} from './telemetry-record.js';
export {
  HTTP_ERRORS,
  HttpError,
  httpErrorBody,
  httpStatusOf,
  isHttpErrorCode,
  singleQueryValue,
  type HttpErrorBody,
  type HttpErrorCode,
} from './http-errors.js';
export { firstIssue } from './zod-issue.js';
export { parseIsoDateTime } from './device-timestamp.js';
export {
  MAX_RELAY_HEADER_BYTES,
  RELAY_FRAME_VERSION,
  STREAM_FRAME_MARKER,
  decodeRelayFrame,
  decodeStreamChunk,
  encodeRelayFrame,
  encodeStreamChunk,
  isStreamFrame,
  relayHeader,
  type RelayFrame,
  type StreamChunk,
} from './stream-frame.js';
export { StreamChannel, StreamCloseMessage, StreamOpenMessage } from './stream-messages.js';
export { AttachMessage, DetachMessage, DeviceId } from './subdevice-messages.js';
export {
  STATE_LIMITS,
  applyStatePatch,
  deltaOf,
  emptyState,
  stateDocument,
  statePatchProblem,
  stateSectionProblem,
  type DeviceStateDocument,
  type StateSection,
  type StateValues,
} from './device-state.js';
