import { readFileSync } from 'node:fs';

import { HTTP_ERRORS } from '@fleetwire/protocol';
import { describe, expect, it } from 'vitest';

import { STATE_ROUTE } from './state-routes.js';

const DOC = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8');

describe("the edge's OpenAPI document", () => {
  it('lists the state route the edge serves, and only error codes of the catalogue', () => {
    const paths = [...DOC.matchAll(/^ {2}(\/[^:\s]*):$/gm)].map((m) => m[1]);
    expect(paths).toEqual([STATE_ROUTE.replace(':id', '{deviceId}')]);
    const statuses = new Set(Object.values(HTTP_ERRORS).map((e) => String(e.status)));
    for (const [, status] of DOC.matchAll(/^ {8}'(\d{3})':/gm)) {
      if (status !== '200') expect(statuses).toContain(status);
    }
    const described = /description: A refusal in the one error contract; (.*)$/m.exec(DOC)![1]!;
    for (const [, status, codes] of described.matchAll(/(\d{3}) ([a-z_*, ]+)/g)) {
      for (const code of codes!.split(', ').filter((c) => !c.endsWith('*'))) {
        expect([code, HTTP_ERRORS[code as keyof typeof HTTP_ERRORS]?.status]).toEqual([
          code,
          Number(status),
        ]);
      }
    }
  });
});
