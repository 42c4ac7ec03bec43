import { z } from 'zod';
import { describe, expect, it } from 'vitest';

import { ConfigError, envVar, loadConfig } from './index.js';

const schema = z.object({
  PORT: envVar.int(8080, { min: 0, max: 65535 }),
  TLS: envVar.bool(false),
  TENANTS: envVar.list(),
  MODE: envVar.oneOf(['drop', 'close'], 'close'),
});

describe('loadConfig', () => {
  it('parses, applies defaults, and treats empty strings as unset', () => {
    expect(loadConfig(schema, { PORT: '9000', TLS: 'true', TENANTS: 'a, b,,c', MODE: '' })).toEqual(
      {
        PORT: 9000,
        TLS: true,
        TENANTS: ['a', 'b', 'c'],
        MODE: 'close',
      },
    );
  });

  it('lists every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', TLS: 'maybe', MODE: 'explode' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^PORT: /);
    expect(issues[1]).toMatch(/^TLS: /);
    expect(issues[2]).toMatch(/^MODE: /);
  });
});
