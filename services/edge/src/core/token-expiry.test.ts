import { CloseCode } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { describe, expect, it } from 'vitest';

import type { Connection } from './connection.js';
import { TokenExpiry } from './token-expiry.js';

/** A connection that records how it was ended, and leaves the expiry set as the core would. */
function connection(expiry: TokenExpiry, at: number, ended: Array<[string, number]>, name: string) {
  const conn = {
    end: (code: number) => {
      ended.push([name, code]);
      expiry.forget(conn, at);
    },
  } as unknown as Connection;
  return conn;
}

describe('TokenExpiry', () => {
  it('closes each connection with 4003 at its instant, earliest first, with one timer', async () => {
    const expiry = new TokenExpiry();
    const ended: Array<[string, number]> = [];
    const now = Date.now();
    const late = now + 120;
    const early = now + 40;
    expiry.track(connection(expiry, late, ended, 'late'), late);
    expiry.track(connection(expiry, early, ended, 'early-1'), early);
    expiry.track(connection(expiry, early, ended, 'early-2'), early);
    expect(expiry.size).toBe(3);
    await waitFor('all expired', () => ended.length === 3);
    expect(ended).toEqual([
      ['early-1', CloseCode.TokenExpired],
      ['early-2', CloseCode.TokenExpired],
      ['late', CloseCode.TokenExpired],
    ]);
    expect(expiry.size).toBe(0);
    expiry.close();
  });

  it('a connection that closed first is not ended, and an instant already past ends at once', async () => {
    const expiry = new TokenExpiry();
    const ended: Array<[string, number]> = [];
    const at = Date.now() + 30;
    const gone = connection(expiry, at, ended, 'gone');
    expiry.track(gone, at);
    expiry.forget(gone, at);
    expect(expiry.size).toBe(0);
    const past = Date.now() - 1_000;
    expiry.track(connection(expiry, past, ended, 'past'), past);
    const stays = connection(expiry, at + 20, ended, 'stays');
    expiry.track(stays, at + 20);
    await waitFor('past and stays ended', () => ended.length === 2);
    expect(ended.map(([name]) => name)).toEqual(['past', 'stays']);
    expiry.close();
  });

  it('tokens beyond the longest timer Node accepts are not tracked', () => {
    const expiry = new TokenExpiry();
    const ended: Array<[string, number]> = [];
    const at = Date.now() + 2 ** 31;
    expiry.track(connection(expiry, at, ended, 'far'), at);
    expect(expiry.size).toBe(0);
    expiry.close();
  });
});
