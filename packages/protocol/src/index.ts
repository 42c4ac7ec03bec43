export { CloseCode, CloseReason, ErrorCode, NackReason } from './codes.js';
export { ProtocolError, decodeFrame, encodeMessage } from './codec.js';
export {
  CLIENT_MESSAGE_TYPES,
  ClientMessage,
  type ClientMessageType,
  type DeliveryMessage,
  type ErrorMessage,
  type PongMessage,
  type ServerAckMessage,
  type ServerCommandMessage,
  type ServerMessage,
  type ServerNackMessage,
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
} from './topics.js';
export {
  TelemetryRecord,
  TelemetryRecordError,
  decodeTelemetryRecord,
  encodeTelemetryRecord,
  telemetryRecordKey,
} from './telemetry-record.js';
