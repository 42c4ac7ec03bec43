import { createRequire } from 'node:module';

import type * as UWS from 'uWebSockets.js';

export type Uws = typeof UWS;

export class UwsFallbackError extends Error {
  override readonly name = 'UwsFallbackError';
  readonly code = 'EDGE_UWS_FALLBACK';
}

/**
 * The npm republish of uWebSockets.js quietly swaps in a slow pure-JS implementation when its
 * native binary does not load (wrong Node ABI, glibc, platform). The native App is a C++
 * function, so its source text reads "[native code]"; the fallback's is JavaScript.
 */
export function isNativeUws(uws: Uws): boolean {
  return Function.prototype.toString.call(uws.App).includes('[native code]');
}

export interface LoadUwsOptions {
  /** Start even on the pure-JS fallback (development only: it is several times slower). */
  allowFallback: boolean;
}

export function loadUws({ allowFallback }: LoadUwsOptions): { uws: Uws; native: boolean } {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as Uws;
  const native = isNativeUws(uws);
  if (!native && !allowFallback) {
    throw new UwsFallbackError(
      `uWebSockets.js loaded its pure-JS fallback, not the native binary for Node ` +
        `${process.versions.node} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}). ` +
        'Use Node 16, 18 or 20 on glibc ≥ 2.31, or set FLEETWIRE_ALLOW_UWS_FALLBACK=true to run ' +
        'slowly anyway.',
    );
  }
  return { uws, native };
}
