import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { BusError } from './bus.js';

/*
 * The page cursors of PresenceStore.listPage, as clients hand them back: each store reads only
 * its own, and refuses anything else with BUS_INVALID_CURSOR.
 */

/**
 * A page's cursor names the last device id of the page, sealed (AES-256-GCM under a key of the
 * store's state): a caller whose token sees some devices must not read the others' ids from the
 * cursors of pages it was shown nothing of, nor make one up.
 */
export function sealIdCursor(key: Buffer, id: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([cipher.update(id), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** The device id a cursor of this store names (the last one of its page). */
export function openIdCursor(key: Buffer, cursor: string): string {
  const bytes = Buffer.from(cursor, 'base64url');
  try {
    if (bytes.toString('base64url') !== cursor || bytes.length <= 28) throw new Error('short');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString();
  } catch {
    throw new BusError('BUS_INVALID_CURSOR', 'not a cursor of this presence store');
  }
}

/** Redis's SCAN cursors are unsigned 64-bit: a larger one is an error of its own, not a page. */
const MAX_SCAN_CURSOR = 2n ** 64n - 1n;

/** A page's `next` for an HSCAN cursor (not '0': that one ends the listing). */
export function encodeScanCursor(scan: string): string {
  return Buffer.from(scan).toString('base64url');
}

/** The HSCAN cursor a page's `next` carries. */
export function decodeScanCursor(cursor: string): string {
  const scan = Buffer.from(cursor, 'base64url').toString();
  if (
    !/^[1-9]\d{0,19}$/.test(scan) ||
    BigInt(scan) > MAX_SCAN_CURSOR ||
    Buffer.from(scan).toString('base64url') !== cursor
  ) {
    throw new BusError('BUS_INVALID_CURSOR', 'not a cursor of this presence store');
  }
  return scan;
}
