import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { HTTP_ERRORS, HttpError, httpErrorBody } from './http-errors.js';

const DOC = new URL('../../../docs/protocol.md', import.meta.url);

describe('the HTTP error catalogue', () => {
  it('is the table in docs/protocol.md, code for code and status for status', () => {
    const doc = readFileSync(DOC, 'utf8');
    const section = doc.slice(doc.indexOf('## HTTP errors'), doc.indexOf('### At upgrade'));
    const rows = [...section.matchAll(/^\| `([a-z_]+)`\s*\| (\d{3})\s*\|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(rows).toEqual(Object.entries(HTTP_ERRORS).map(([code, e]) => [code, e.status]));
  });

  it('gives every error one body shape and its code’s status', () => {
    expect(httpErrorBody('node_full', 'full')).toEqual({
      error: { code: 'node_full', message: 'full' },
    });
    expect(new HttpError('token_expired', 'jwt expired')).toMatchObject({
      status: 401,
      code: 'token_expired',
    });
    for (const { status } of Object.values(HTTP_ERRORS)) {
      expect([400, 401, 403, 404, 405, 409, 412, 413, 426, 429, 500, 503]).toContain(status);
    }
  });
});
