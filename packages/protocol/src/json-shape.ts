import { badFrame, limitExceeded, type DecodeLimits } from './decode-limits.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LETTER_U = 0x75;

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

/**
 * Skips a JSON string whose opening quote is just before `start`; returns the index of its
 * closing quote (or the end). Refuses what PostgreSQL's jsonb cannot hold: `\u0000` and UTF-16
 * surrogates that are not a pair. Raw bytes are left to the UTF-8 decoder and JSON.parse.
 */
function skipString(bytes: Uint8Array, start: number, limits: DecodeLimits): number {
  let i = start;
  const end = bytes.length;
  while (i < end) {
    const c = bytes[i];
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      if (bytes[i + 1] === LETTER_U) {
        const unit = hexValue(bytes, i + 2);
        if (unit === 0) throw badFrame('strings must not contain U+0000');
        if (unit >= 0xdc00 && unit <= 0xdfff) throw badFrame('unpaired UTF-16 surrogate');
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low =
            bytes[i + 6] === BACKSLASH && bytes[i + 7] === LETTER_U ? hexValue(bytes, i + 8) : -1;
          if (low < 0xdc00 || low > 0xdfff) throw badFrame('unpaired UTF-16 surrogate');
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
      throw limitExceeded(`a string is longer than ${limits.maxStringBytes} bytes`);
    }
  }
  return i;
}

/**
 * Checks JSON text against the limits in one pass over the bytes, with no recursion and memory
 * bounded by `maxDepth`. It does not check the syntax (JSON.parse does, afterwards); for any
 * input it is linear, and for valid JSON it never counts less than is there.
 */
export function checkJsonShape(bytes: Uint8Array, limits: DecodeLimits): void {
  // Per open container: 1 for an object, 0 for an array, and its count of separators.
  const isObject = new Uint8Array(limits.maxDepth + 1);
  const counts = new Uint32Array(limits.maxDepth + 1);
  let depth = 0;
  const end = bytes.length;
  for (let i = 0; i < end; i += 1) {
    const c = bytes[i];
    if (c === QUOTE) {
      i = skipString(bytes, i + 1, limits);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth += 1;
      if (depth > limits.maxDepth) {
        throw limitExceeded(`nested deeper than ${limits.maxDepth} levels`);
      }
      isObject[depth] = c === OPEN_OBJECT ? 1 : 0;
      counts[depth] = 0;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth -= 1;
    } else if (depth > 0) {
      // An array of n items has n-1 commas; an object of n keys has n colons.
      if (c === COMMA && isObject[depth] === 0) {
        counts[depth] = (counts[depth] ?? 0) + 1;
        if ((counts[depth] ?? 0) >= limits.maxItems) {
          throw limitExceeded(`an array has more than ${limits.maxItems} items`);
        }
      } else if (c === COLON && isObject[depth] === 1) {
        counts[depth] = (counts[depth] ?? 0) + 1;
        if ((counts[depth] ?? 0) > limits.maxKeys) {
          throw limitExceeded(`an object has more than ${limits.maxKeys} keys`);
        }
      }
    }
  }
}
