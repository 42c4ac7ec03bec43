import { z } from 'zod';

import { DeviceId } from './subdevice-messages.js';

const Id = z.string().min(1).max(64);
const StreamName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
/** The one byte that names a stream in its chunks (stream-frame.ts); 0 is reserved. */
export const StreamChannel = z.number().int().min(1).max(255);

/**
 * Opens `devices/<device>/streams/<name>` on a channel of this connection: binary chunks on that
 * channel go to the stream's subscribers. `meta` (e.g. the audio format) is announced to them.
 */
export const StreamOpenMessage = z.object({
  type: z.literal('stream_open'),
  id: Id.optional(),
  channel: StreamChannel,
  name: StreamName,
  /** A gateway's sub-device; the sender itself when absent. */
  device: DeviceId.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export const StreamCloseMessage = z.object({
  type: z.literal('stream_close'),
  id: Id.optional(),
  channel: StreamChannel,
});
