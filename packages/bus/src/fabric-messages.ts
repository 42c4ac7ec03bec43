import type { Appended, HistoryQuery } from './history.js';
import type { Position } from './history.js';

/**
 * What a FabricBus (in a worker thread) and the LocalFabric (in the main thread) say to each
 * other over their MessagePort. Both ends are this package's code in one process, so the
 * messages are trusted and not validated; payloads travel as copies (structured clone).
 */
export type ToFabric =
  | { k: 'publish'; id: number; topic: string; payload: Uint8Array }
  | { k: 'append'; id: number; batch: readonly Appended[] }
  | { k: 'read'; id: number; query: HistoryQuery }
  | { k: 'sync'; id: number }
  | { k: 'addPattern'; id: number; pattern: string }
  | { k: 'removePattern'; id: number; pattern: string }
  | { k: 'send'; id: number; inbox: string; payload: Uint8Array }
  | { k: 'listen'; id: number; inbox: string }
  | { k: 'unlisten'; id: number; inbox: string }
  | { k: 'close'; id: number };

export type FromFabric =
  | { k: 'done'; id: number; value?: unknown }
  | { k: 'failed'; id: number; code: string; message: string }
  | { k: 'topic'; topic: string; payload: Uint8Array; position?: Position }
  | { k: 'inbox'; inbox: string; payload: Uint8Array }
  | { k: 'status'; ready: boolean };

/** A Uint8Array that crossed a MessagePort, as the Buffer handlers expect (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
