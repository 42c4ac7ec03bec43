/**
 * Error codes carried by `error` and `nack` messages, and WebSocket close codes, grouped by what
 * a client should do next. docs/protocol.md is the reader's copy of this file.
 */

/** `error.code`: the message was not processed; the connection stays open. */
export const ErrorCode = {
  /**
   * The frame could not be decoded: bad JSON / MessagePack, or a value the store cannot hold
   * (a string with U+0000 or an unpaired surrogate, MessagePack bin/ext, non-string map keys).
   * Fix the sender.
   */
  BadFrame: 'bad_frame',
  /**
   * The frame is nested too deep, or holds too many keys or items or too long a string
   * (DecodeLimits). It was not decoded. Fix the sender.
   */
  LimitExceeded: 'limit_exceeded',
  /** The frame decoded but is not a valid message of its kind. Fix the sender. */
  BadMessage: 'bad_message',
  /** The topic or pattern is malformed. */
  BadTopic: 'bad_topic',
  /** The token's claims do not allow this topic, pattern or command. */
  Forbidden: 'forbidden',
  /** The message rate is over the limit; the message was dropped. Slow down. */
  RateLimited: 'rate_limited',
  /** This role may not send this kind of message. */
  NotAllowed: 'not_allowed',
  /** The connection holds the maximum number of subscriptions. */
  TooManySubscriptions: 'too_many_subscriptions',
  /** A device message's `device_id` is not the connection's device (its token's `sub`). */
  DeviceMismatch: 'device_mismatch',
  /** An `ack`/`nack` without an `id` came while no command was pending for the device. */
  NoPendingCommand: 'no_pending_command',
  /** A gateway named a device its token does not list (or a non-gateway named another device). */
  SubDeviceForbidden: 'subdevice_forbidden',
  /** A gateway sent for a sub-device it has not attached (or attached too many). */
  SubDeviceNotAttached: 'subdevice_not_attached',
  /** A stream chunk or close named a channel this connection has not opened (or too many). */
  UnknownStream: 'unknown_stream',
  /**
   * A gateway attached a device new to its tenant, and the tenant has its maximum of known
   * devices. Not attached; an operator must forget devices or raise the limit.
   */
  DeviceLimit: 'device_limit',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** `nack.reason`: a command or an acked message did not succeed. */
export const NackReason = {
  /** The target device is not connected. */
  Offline: 'offline',
  /** No ack arrived in time. */
  Timeout: 'timeout',
  /** Try again later (e.g. the telemetry log is unavailable). */
  Retry: 'retry',
  /** The receiver refused (the device's own nack). */
  Rejected: 'rejected',
  /** The sender may not do this. */
  Forbidden: 'forbidden',
  /** The message was invalid (e.g. a command id already pending for that device). */
  Invalid: 'invalid',
  /** `state.set` named a version the document is no longer at: read it again, then retry. */
  Conflict: 'conflict',
} as const;
export type NackReason = (typeof NackReason)[keyof typeof NackReason];

/** WebSocket close codes the server uses, with the action a client should take. */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** Repeated abuse: rate limit exceeded again and again, or too many invalid frames. Back off. */
  PolicyViolation: 1008,
  /** A frame was larger than the maximum payload. Do not resend it. */
  MessageTooBig: 1009,
  /** Server error. Reconnect with backoff. */
  InternalError: 1011,
  /** The node is restarting, draining or rebalancing. Reconnect (any node) with backoff. */
  ServiceRestart: 1012,
  /** The token expired while connected. Get a fresh token, then reconnect. */
  TokenExpired: 4001,
  /** Another connection with the same device id replaced this one. Do not reconnect blindly. */
  SessionReplaced: 4002,
  /**
   * The device is new to its tenant, which has its maximum of known devices. Reconnecting will
   * not help until an operator forgets devices or raises the limit: back off for long.
   */
  DeviceLimit: 4003,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The reason texts the server sends with its close codes. */
export const CloseReason = {
  RateLimitExceeded: 'rate limit exceeded',
  MessageTooBig: 'message too big',
  TooManyErrors: 'too many invalid messages',
  /** A device sent more than the edge keeps while its admission (presence) is decided. */
  TooEarly: 'too many messages before welcome',
  /** A gateway sent more than the edge keeps while a sub-device's attach is answered. */
  TooEarlyForAttach: 'too many messages before attach',
  Draining: 'server draining',
  /** The node holds far more than its share of connections (opt-in rebalance): reconnect. */
  Rebalance: 'rebalancing',
  TokenExpired: 'token expired',
  SessionReplaced: 'replaced by a newer connection',
  DeviceLimit: 'tenant device limit reached',
} as const;
