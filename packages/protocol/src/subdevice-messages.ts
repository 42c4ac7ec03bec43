import { z } from 'zod';

/** A device id as a token's `sub` spells it (the `device` a gateway speaks for). */
export const DeviceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'letters, digits and _ . : @ - only');

const Id = z.string().min(1).max(64);

/** A gateway announces that one of its sub-devices connected (attach) or left (detach). */
export const AttachMessage = z.object({
  type: z.literal('attach'),
  id: Id.optional(),
  device: DeviceId,
});

export const DetachMessage = z.object({
  type: z.literal('detach'),
  id: Id.optional(),
  device: DeviceId,
});
