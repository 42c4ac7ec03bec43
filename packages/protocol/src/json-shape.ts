import { badFrame, limitExceeded, type DecodeLimits } from './decode-limits.js';
import type { ProtocolError } from './protocol-error.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LETTER_U = 0x75;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
/** A byte of a JSON number after its first (digits, sign, point, exponent). */
const inNumber = (c: number | undefined): boolean =>
  isDigit(c) || c === DOT || c === MINUS || c === PLUS || c === 0x65 || c === 0x45;

const utf8 = new TextDecoder('utf-8');

function hexValue(bytes: Uint8Array, at: number): number {
  let value = 0;
  for (let i = at; i < at + 4; i += 1) {
    const c = bytes[i] ?? 0;
    const digit =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x41 && c <= 0x46
          ? c - 0x37
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A JSON string's text from its bytes (between the quotes), escapes resolved; undefined if bad. */
function stringAt(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return JSON.parse(`"${utf8.decode(bytes.subarray(start, end))}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * One pass over JSON text with an explicit stack bounded by `maxDepth`: per open container
 * whether it is an object, its separator count (the array index or the key count), where its
 * current key is, and whether a key comes next. The path of keys and indexes names where a
 * problem is, for the sender and the dead-letter reader.
 */
class JsonScan {
  private readonly isObject: Uint8Array;
  private readonly counts: Uint32Array;
  private readonly keyStart: Int32Array;
  private readonly keyEnd: Int32Array;
  private readonly keyNext: Uint8Array;
  private depth = 0;
  private lastStart = -1;
  private lastEnd = -1;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {
    const size = limits.maxDepth + 1;
    this.isObject = new Uint8Array(size);
    this.counts = new Uint32Array(size);
    this.keyStart = new Int32Array(size).fill(-1);
    this.keyEnd = new Int32Array(size).fill(-1);
    this.keyNext = new Uint8Array(size);
  }

  run(): void {
    const { bytes, limits } = this;
    const end = bytes.length;
    let numberStart = -1;
    for (let i = 0; i < end; i += 1) {
      const c = bytes[i];
      if (numberStart >= 0) {
        if (inNumber(c)) continue;
        this.checkNumber(numberStart, i);
        numberStart = -1;
      } else if (c === MINUS || isDigit(c)) {
        numberStart = i;
        continue;
      }
      const d = this.depth;
      if (c === QUOTE) {
        this.lastStart = i + 1;
        i = this.skipString(i + 1);
        this.lastEnd = i;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (d + 1 > limits.maxDepth) {
          throw this.fail(limitExceeded, `nested deeper than ${limits.maxDepth} levels`);
        }
        this.depth = d + 1;
        this.isObject[d + 1] = c === OPEN_OBJECT ? 1 : 0;
        this.counts[d + 1] = 0;
        this.keyStart[d + 1] = -1;
        this.keyNext[d + 1] = c === OPEN_OBJECT ? 1 : 0;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (d > 0) this.depth = d - 1;
      } else if (d > 0 && c === COMMA) {
        if (this.isObject[d] === 1) {
          this.keyNext[d] = 1;
        } else {
          // An array of n items has n-1 commas.
          this.counts[d] = (this.counts[d] ?? 0) + 1;
          if ((this.counts[d] ?? 0) >= limits.maxItems) {
            throw this.fail(limitExceeded, `an array has more than ${limits.maxItems} items`);
          }
        }
      } else if (d > 0 && c === COLON && this.isObject[d] === 1) {
        this.counts[d] = (this.counts[d] ?? 0) + 1;
        this.keyStart[d] = this.lastStart;
        this.keyEnd[d] = this.lastEnd;
        this.keyNext[d] = 0;
        if ((this.counts[d] ?? 0) > limits.maxKeys) {
          throw this.fail(limitExceeded, `an object has more than ${limits.maxKeys} keys`);
        }
        // `__proto__` as a key means something else to JavaScript objects than to the sender.
        const length = this.lastEnd - this.lastStart;
        if (length >= 9 && length <= 60 && this.key(d) === '__proto__') {
          throw this.fail(badFrame, 'the key __proto__ is not accepted');
        }
      }
    }
    if (numberStart >= 0) this.checkNumber(numberStart, end);
  }

  /**
   * JSON.parse turns a number beyond a double's range (`1e400`, 310 digits) into ±Infinity,
   * which every later step writes as `null`: refused, as MessagePack's Infinity is. Decided from
   * the bytes where it can be: under 200 characters with an exponent of at most two digits, a
   * number is below 1e300 (the common case, `1.5e-7`, costs no string); only the rest is read.
   */
  private checkNumber(start: number, end: number): void {
    const { bytes } = this;
    if (end - start < 200) {
      let e = start;
      while (e < end && bytes[e] !== 0x65 && bytes[e] !== 0x45) e += 1;
      if (e === end) return;
      let digits = 0;
      for (let i = e + 1; i < end; i += 1) if (isDigit(bytes[i])) digits += 1;
      if (digits <= 2) return;
    }
    const value = Number(utf8.decode(bytes.subarray(start, end)));
    // NaN is a malformed number: JSON.parse says so afterwards.
    if (value === Infinity || value === -Infinity) {
      throw this.fail(badFrame, 'a number is out of range (beyond ±1.8e308)');
    }
  }

  private key(depth: number): string | undefined {
    const start = this.keyStart[depth] ?? -1;
    return start < 0 ? undefined : stringAt(this.bytes, start, this.keyEnd[depth] ?? start);
  }

  /** `data.readings.3` — where the scan is; keys cut to 32 characters. */
  private path(): string {
    const parts: string[] = [];
    for (let d = 1; d <= this.depth; d += 1) {
      if (this.isObject[d] === 1) {
        if (this.keyNext[d] === 1) {
          parts.push('(a key)');
          break;
        }
        const key = this.key(d) ?? '?';
        parts.push(key.length > 32 ? `${key.slice(0, 32)}…` : key);
      } else {
        parts.push(String(this.counts[d] ?? 0));
      }
    }
    return parts.join('.');
  }

  private fail(kind: (message: string) => ProtocolError, problem: string): ProtocolError {
    const where = this.path();
    return kind(where ? `${where}: ${problem}` : problem);
  }

  /**
   * Skips a string whose opening quote is just before `start`; returns the index of its closing
   * quote (or the end). Refuses what PostgreSQL's jsonb cannot hold: `\u0000` and UTF-16
   * surrogates that are not a pair. Raw bytes are left to the UTF-8 decoder and JSON.parse.
   */
  private skipString(start: number): number {
    const { bytes, limits } = this;
    let i = start;
    const end = bytes.length;
    while (i < end) {
      const c = bytes[i];
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        if (bytes[i + 1] === LETTER_U) {
          const unit = hexValue(bytes, i + 2);
          if (unit === 0) throw this.fail(badFrame, 'strings must not contain U+0000');
          if (unit >= 0xdc00 && unit <= 0xdfff) {
            throw this.fail(badFrame, 'unpaired UTF-16 surrogate');
          }
          if (unit >= 0xd800 && unit <= 0xdbff) {
            const low =
              bytes[i + 6] === BACKSLASH && bytes[i + 7] === LETTER_U ? hexValue(bytes, i + 8) : -1;
            if (low < 0xdc00 || low > 0xdfff) {
              throw this.fail(badFrame, 'unpaired UTF-16 surrogate');
            }
            i += 12;
          } else {
            i += 6;
          }
        } else {
          i += 2;
        }
      } else {
        i += 1;
      }
      if (i - start > limits.maxStringBytes) {
        throw this.fail(limitExceeded, `a string is longer than ${limits.maxStringBytes} bytes`);
      }
    }
    return i;
  }
}

/**
 * Checks JSON text against the limits in one pass over the bytes, with no recursion and memory
 * bounded by `maxDepth`. It does not check the syntax (JSON.parse does, afterwards); for any
 * input it is linear, and for valid JSON it never counts less than is there.
 */
export function checkJsonShape(bytes: Uint8Array, limits: DecodeLimits): void {
  new JsonScan(bytes, limits).run();
}
