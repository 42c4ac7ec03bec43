import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ProtocolError, decodeFrame, decodeJson, decodeMsgpack } from './codec.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode-limits.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const nested = (open: string, close: string, depth: number, inner = '1'): string =>
  open.repeat(depth) + inner + close.repeat(depth);
const small: DecodeLimits = { maxDepth: 4, maxKeys: 3, maxItems: 5, maxStringBytes: 8 };

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** The test's own measure of a value, walked with an explicit stack. */
function shapeOf(value: unknown, stringBytes: (s: string) => number): DecodeLimits {
  const shape = { maxDepth: 0, maxKeys: 0, maxItems: 0, maxStringBytes: 0 };
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      shape.maxStringBytes = Math.max(shape.maxStringBytes, stringBytes(v));
    } else if (Array.isArray(v)) {
      shape.maxDepth = Math.max(shape.maxDepth, depth + 1);
      shape.maxItems = Math.max(shape.maxItems, v.length);
      for (const item of v) stack.push([item, depth + 1]);
    } else if (typeof v === 'object' && v !== null) {
      shape.maxDepth = Math.max(shape.maxDepth, depth + 1);
      const entries = Object.entries(v);
      shape.maxKeys = Math.max(shape.maxKeys, entries.length);
      for (const [k, item] of entries) stack.push([k, depth], [item, depth + 1]);
    }
  }
  return shape;
}

const within = (shape: DecodeLimits, limits: DecodeLimits): boolean =>
  shape.maxDepth <= limits.maxDepth &&
  shape.maxKeys <= limits.maxKeys &&
  shape.maxItems <= limits.maxItems &&
  shape.maxStringBytes <= limits.maxStringBytes;

describe('bounded JSON', () => {
  it('takes nesting up to maxDepth and refuses one level more, for arrays and objects', () => {
    const depth = DEFAULT_DECODE_LIMITS.maxDepth;
    expect(decodeJson(nested('[', ']', depth))).toBeDefined();
    expect(code(() => decodeJson(nested('[', ']', depth + 1)))).toBe('limit_exceeded');
    expect(code(() => decodeJson(nested('{"a":', '}', depth + 1)))).toBe('limit_exceeded');
    // The attacks that took the process down: 8,100 arrays, 2,000 objects, 1,000 arrays.
    for (const attack of [
      nested('[', ']', 8100),
      nested('{"a":', '}', 2000),
      nested('[', ']', 1000),
    ]) {
      expect(code(() => decodeFrame(text(attack), false))).toBe('limit_exceeded');
    }
  });

  it('counts keys, items and string bytes, and ignores brackets inside strings', () => {
    expect(decodeJson('{"a":1,"b":2,"c":3}', small)).toEqual({ a: 1, b: 2, c: 3 });
    expect(code(() => decodeJson('{"a":1,"b":2,"c":3,"d":4}', small))).toBe('limit_exceeded');
    expect(decodeJson('[1,2,3,4,5]', small)).toHaveLength(5);
    expect(code(() => decodeJson('[1,2,3,4,5,6]', small))).toBe('limit_exceeded');
    expect(decodeJson('["12345678"]', small)).toEqual(['12345678']);
    expect(code(() => decodeJson('["123456789"]', small))).toBe('limit_exceeded');
    expect(decodeJson('["[[[[[", "{{{{,,,"]', { ...small, maxItems: 2 })).toEqual([
      '[[[[[',
      '{{{{,,,',
    ]);
    expect(decodeJson('{"a\\"[[[[[[":1}', { ...small, maxStringBytes: 16 })).toEqual({
      'a"[[[[[[': 1,
    });
  });

  it('refuses what PostgreSQL jsonb cannot store: U+0000 and unpaired surrogates', () => {
    expect(code(() => decodeJson('{"a":"x\\u0000"}'))).toBe('bad_frame');
    expect(code(() => decodeJson('{"\\u0000":1}'))).toBe('bad_frame');
    expect(code(() => decodeJson('["\\ud800"]'))).toBe('bad_frame');
    expect(code(() => decodeJson('["\\udc00\\ud800"]'))).toBe('bad_frame');
    expect(decodeJson('["\\ud83d\\ude00", "\\u00e9"]')).toEqual(['😀', 'é']);
  });

  it('refuses invalid UTF-8 and bad syntax with bad_frame', () => {
    expect(code(() => decodeJson(new Uint8Array([0x22, 0xff, 0x22])))).toBe('bad_frame');
    expect(code(() => decodeJson('{"a":'))).toBe('bad_frame');
    expect(code(() => decodeJson(']]]]]]]]'))).toBe('bad_frame');
  });

  it('agrees with a measure of the parsed value, for any JSON value', () => {
    const limits: DecodeLimits = { maxDepth: 3, maxKeys: 4, maxItems: 4, maxStringBytes: 12 };
    const jsonBytes = (s: string): number => Buffer.byteLength(JSON.stringify(s)) - 2;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const source = JSON.stringify(value);
        if (source.includes('\\u0000') || /\\ud[89a-f]/i.test(source)) return;
        const expected = JSON.parse(source) as unknown;
        // fast-check makes `__proto__` keys on purpose: refused whatever the shape (or for the
        // shape first, depending on where the walk meets it).
        if (source.includes('"__proto__":')) {
          expect(['bad_frame', 'limit_exceeded']).toContain(code(() => decodeJson(source, limits)));
          return;
        }
        const ok = within(shapeOf(expected, jsonBytes), limits);
        if (ok) expect(decodeJson(source, limits)).toEqual(expected);
        else expect(code(() => decodeJson(source, limits))).toBe('limit_exceeded');
      }),
      { numRuns: 500 },
    );
  });
});

describe('bounded MessagePack', () => {
  it('takes nesting up to maxDepth and refuses one level more', () => {
    let value: unknown = 1;
    for (let i = 0; i < DEFAULT_DECODE_LIMITS.maxDepth; i += 1) value = [value];
    expect(decodeMsgpack(encode(value))).toEqual(value);
    expect(code(() => decodeMsgpack(encode({ a: value })))).toBe('limit_exceeded');
    // 10,000 nested arrays in 10 KB, built by hand (the encoder itself refuses past 100).
    expect(code(() => decodeMsgpack(new Uint8Array(10_000).fill(0x91)))).toBe('limit_exceeded');
  });

  it('refuses declared lengths over the limit or over the bytes present, before allocating', () => {
    const array32 = new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(code(() => decodeMsgpack(array32))).toBe('limit_exceeded');
    const map32 = new Uint8Array([0xdf, 0x00, 0x00, 0x00, 0x10, 0xa1, 0x61]);
    expect(code(() => decodeMsgpack(map32))).toBe('bad_frame');
    const str32 = new Uint8Array([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]);
    expect(code(() => decodeMsgpack(str32))).toBe('limit_exceeded');
    expect(code(() => decodeMsgpack(new Uint8Array([0xd9, 0x05, 0x61])))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([0xcb, 0x00])))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([])))).toBe('bad_frame');
  });

  it('accepts only the JSON value model', () => {
    expect(code(() => decodeMsgpack(encode({ b: new Uint8Array([1]) })))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(encode({ d: new Date(0) })))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([0x81, 0x01, 0x02])))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(encode({ s: 'a\u0000b' })))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([0xa2, 0xed, 0xa0])))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([0xc0, 0xc0])))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(new Uint8Array([0xc1])))).toBe('bad_frame');
  });

  it('agrees with a measure of the encoded value, for any JSON value', () => {
    const limits: DecodeLimits = { maxDepth: 3, maxKeys: 4, maxItems: 4, maxStringBytes: 12 };
    const utf8Bytes = (s: string): number => Buffer.byteLength(s);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const source = JSON.stringify(value);
        if (source.includes('\\u0000') || /\\ud[89a-f]/i.test(source)) return;
        const expected = JSON.parse(source) as unknown;
        const bytes = encode(expected);
        if (source.includes('"__proto__":')) {
          expect(['bad_frame', 'limit_exceeded']).toContain(
            code(() => decodeMsgpack(bytes, limits)),
          );
          return;
        }
        const ok = within(shapeOf(expected, utf8Bytes), limits);
        if (ok) expect(decodeMsgpack(bytes, limits)).toEqual(expected);
        else expect(code(() => decodeMsgpack(bytes, limits))).toBe('limit_exceeded');
      }),
      { numRuns: 500 },
    );
  });
});

describe('the ref of a refused frame', () => {
  it('is the top-level id when it is a plain string, in JSON and MessagePack', () => {
    const deep = nested('[', ']', 100);
    const jsonFrame = text(`{"type":"telemetry","data":{"x":${deep}},"id":"m-7"}`);
    expect(() => decodeFrame(jsonFrame, false)).toThrow(
      expect.objectContaining({ code: 'limit_exceeded', ref: 'm-7' }),
    );
    let value: unknown = 1;
    for (let i = 0; i < 30; i += 1) value = [value];
    const packed = encode({ type: 'telemetry', data: { x: value }, id: 'm-8' }, { maxDepth: 200 });
    expect(() => decodeFrame(packed, true)).toThrow(
      expect.objectContaining({ code: 'limit_exceeded', ref: 'm-8' }),
    );
    // A nested `id` is not the frame's.
    const inner = text(`{"data":{"id":"inner","x":${deep}}}`);
    expect(() => decodeFrame(inner, false)).toThrow(expect.objectContaining({ ref: undefined }));
  });

  it('never throws anything but a ProtocolError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (bytes, isBinary) => {
        try {
          decodeFrame(bytes, isBinary);
        } catch (error) {
          expect((error as Error).name).toBe('ProtocolError');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('what the two formats could not carry alike', () => {
  it('refuses __proto__ keys in JSON as in MessagePack, escaped or not', () => {
    expect(code(() => decodeJson('{"data":{"__proto__":{"x":1}}}'))).toBe('bad_frame');
    expect(code(() => decodeJson('{"\\u005f_proto__":1}'))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(encode({ ['__proto__']: 1 })))).toBe('bad_frame');
    expect(decodeJson('{"__proto":1,"proto__":2}')).toEqual({ __proto: 1, proto__: 2 });
  });

  it('refuses NaN, ±Infinity and 64-bit integers beyond 2^53 in MessagePack', () => {
    expect(code(() => decodeMsgpack(encode({ x: Number.NaN })))).toBe('bad_frame');
    expect(code(() => decodeMsgpack(encode({ x: Number.POSITIVE_INFINITY })))).toBe('bad_frame');
    const float32Inf = new Uint8Array([0xca, 0xff, 0x80, 0x00, 0x00]);
    expect(code(() => decodeMsgpack(float32Inf))).toBe('bad_frame');
    const big = new Uint8Array([0xcf, 0x00, 0x40, 0, 0, 0, 0, 0, 0]); // 2^54
    expect(code(() => decodeMsgpack(big))).toBe('bad_frame');
    const safe = new Uint8Array([0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // 2^53-1
    expect(decodeMsgpack(safe)).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeMsgpack(encode({ x: 1.5, y: -2.25 }))).toEqual({ x: 1.5, y: -2.25 });
  });

  it('refuses JSON numbers beyond a double’s range (JSON.parse would make them ±Infinity, then null), as MessagePack’s Infinity', () => {
    for (const text of ['{"x":1e400}', '{"x":-1E+400}', `[${'9'.repeat(400)}]`, '-1e309']) {
      expect(code(() => decodeJson(text))).toBe('bad_frame');
    }
    expect(() => decodeJson('{"data":{"t":[1,2e999]}}')).toThrow(
      'data.t.1: a number is out of range',
    );
    // In range, however written; in strings, text; true and false are no numbers.
    expect(decodeJson('[1e308,-1.5E-300,0.5e1,12345678901234567890,"1e400",true,false]')).toEqual([
      1e308,
      -1.5e-300,
      5,
      Number('12345678901234567890'), // the nearest double, as documented
      '1e400',
      true,
      false,
    ]);
  });

  it('whatever number text it is given, a JSON value never holds ±Infinity or NaN', () => {
    const numberText = fc.tuple(
      fc.constantFrom('', '-'),
      fc.stringMatching(/^[0-9]{1,400}$/),
      fc.constantFrom('', '.5', '.0001'),
      fc.constantFrom('', 'e', 'E', 'e+', 'e-'),
      fc.integer({ min: 0, max: 1000 }),
    );
    fc.assert(
      fc.property(numberText, ([sign, digits, fraction, e, exponent]) => {
        const text = `[${sign}${digits}${fraction}${e === '' ? '' : `${e}${exponent}`}]`;
        let value: unknown;
        try {
          value = decodeJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          return;
        }
        expect(Number.isFinite((value as number[])[0])).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('names where the problem is: the path of keys and indexes', () => {
    const at = (text: string): string | undefined => {
      try {
        decodeJson(text, small);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(at('{"data":{"note":"a\\u0000b"}}')).toBe('data.note: strings must not contain U+0000');
    expect(at('{"data":{"list":[1,"\\ud800"]}}')).toBe('data.list.1: unpaired UTF-16 surrogate');
    expect(at('{"data":{"k\\ud800":1}}')).toBe('data.(a key): unpaired UTF-16 surrogate');
    expect(at('{"a":{"b":{"c":{"d":{}}}}}')).toBe('a.b.c.d: nested deeper than 4 levels');
    expect(at('{"a":"123456789"}')).toBe('a: a string is longer than 8 bytes');
  });

  it('checks a string input as the text it parses (lone surrogates become U+FFFD)', () => {
    expect(decodeJson('["\ud800"]')).toEqual(['\ufffd']);
  });
});
