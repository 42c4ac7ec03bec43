import { badFrame, limitExceeded, type DecodeLimits } from './decode-limits.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function truncated(): never {
  throw badFrame('MessagePack value is truncated');
}

function readLength(bytes: Uint8Array, at: number, size: 1 | 2 | 4): number {
  if (at + size > bytes.length) truncated();
  let value = 0;
  for (let i = 0; i < size; i += 1) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

/** Bytes a fixed-size scalar occupies after its type byte, or -1 when `type` is not one. */
function scalarSize(type: number): number {
  if (type <= 0x7f || type >= 0xe0) return 0; // fixint
  switch (type) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return 0;
    case 0xcc: // uint8
    case 0xd0: // int8
      return 1;
    case 0xcd: // uint16
    case 0xd1: // int16
      return 2;
    case 0xca: // float32
    case 0xce: // uint32
    case 0xd2: // int32
      return 4;
    case 0xcb: // float64
    case 0xcf: // uint64
    case 0xd3: // int64
      return 8;
    default:
      return -1;
  }
}

/**
 * Numbers JSON cannot carry, so subscribers in the two formats and the store would disagree:
 * NaN and ±Infinity (a float whose exponent bits are all ones) and 64-bit integers beyond 2^53.
 */
function unrepresentable(bytes: Uint8Array, type: number, at: number): string | undefined {
  if (type === 0xca && ((bytes[at] ?? 0) & 0x7f) === 0x7f && ((bytes[at + 1] ?? 0) & 0x80) !== 0) {
    return 'NaN and Infinity are not accepted';
  }
  if (
    type === 0xcb &&
    ((bytes[at] ?? 0) & 0x7f) === 0x7f &&
    ((bytes[at + 1] ?? 0) & 0xf0) === 0xf0
  ) {
    return 'NaN and Infinity are not accepted';
  }
  if (type === 0xcf || type === 0xd3) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
    const value = type === 0xcf ? view.getBigUint64(0) : view.getBigInt64(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      return 'integers beyond ±2^53 are not accepted';
    }
  }
  return undefined;
}

/**
 * Checks a MessagePack value against the limits in one pass over the bytes, before the decoder
 * allocates anything: no recursion, memory bounded by `maxDepth`, and every declared length is
 * checked against the limit and against the bytes actually present (a declared array of 2^32
 * items in a 10-byte frame is refused here). The accepted value model is JSON's: maps with
 * string keys, no bin or ext types, strings in valid UTF-8 without U+0000.
 */
export function checkMsgpackShape(bytes: Uint8Array, limits: DecodeLimits): void {
  // Per open container: values still to read (a map of n entries holds 2n) and whether a map.
  const remaining = new Float64Array(limits.maxDepth + 1);
  const isMap = new Uint8Array(limits.maxDepth + 1);
  remaining[0] = 1;
  let depth = 0;
  let pos = 0;
  const end = bytes.length;
  for (;;) {
    while (depth > 0 && remaining[depth] === 0) depth -= 1;
    if (depth === 0 && remaining[0] === 0) break;
    const left = (remaining[depth] ?? 0) - 1;
    remaining[depth] = left;
    // A map's values alternate key, value: with an odd count left, this one is a key.
    const isKey = isMap[depth] === 1 && left % 2 === 1;
    if (pos >= end) truncated();
    const type = bytes[pos] ?? 0;
    pos += 1;

    let strLength = -1;
    if (type >= 0xa0 && type <= 0xbf) strLength = type & 0x1f;
    else if (type === 0xd9) strLength = readLength(bytes, pos, 1);
    else if (type === 0xda) strLength = readLength(bytes, pos, 2);
    else if (type === 0xdb) strLength = readLength(bytes, pos, 4);
    if (strLength >= 0) {
      pos += type === 0xd9 ? 1 : type === 0xda ? 2 : type === 0xdb ? 4 : 0;
      if (strLength > limits.maxStringBytes) {
        throw limitExceeded(`a string is longer than ${limits.maxStringBytes} bytes`);
      }
      if (pos + strLength > end) truncated();
      const text = bytes.subarray(pos, pos + strLength);
      if (text.includes(0)) throw badFrame('strings must not contain U+0000');
      try {
        utf8.decode(text);
      } catch (cause) {
        throw badFrame('a string is not valid UTF-8', cause);
      }
      pos += strLength;
      continue;
    }
    if (isKey) throw badFrame('MessagePack map keys must be strings');

    const size = scalarSize(type);
    if (size >= 0) {
      if (pos + size > end) truncated();
      const problem = unrepresentable(bytes, type, pos);
      if (problem) throw badFrame(problem);
      pos += size;
      continue;
    }

    let count: number;
    let map: boolean;
    if (type >= 0x80 && type <= 0x8f) [count, map] = [type & 0x0f, true];
    else if (type >= 0x90 && type <= 0x9f) [count, map] = [type & 0x0f, false];
    else if (type === 0xdc || type === 0xdd) {
      const width = type === 0xdc ? 2 : 4;
      [count, map] = [readLength(bytes, pos, width), false];
      pos += width;
    } else if (type === 0xde || type === 0xdf) {
      const width = type === 0xde ? 2 : 4;
      [count, map] = [readLength(bytes, pos, width), true];
      pos += width;
    } else {
      throw badFrame(
        `MessagePack type 0x${type.toString(16)} is not accepted (bin and ext are not)`,
      );
    }
    if (depth + 1 > limits.maxDepth) {
      throw limitExceeded(`nested deeper than ${limits.maxDepth} levels`);
    }
    if (map && count > limits.maxKeys) {
      throw limitExceeded(`an object has more than ${limits.maxKeys} keys`);
    }
    if (!map && count > limits.maxItems) {
      throw limitExceeded(`an array has more than ${limits.maxItems} items`);
    }
    // Every value takes at least one byte.
    const values = map ? count * 2 : count;
    if (values > end - pos) truncated();
    if (values > 0) {
      depth += 1;
      remaining[depth] = values;
      isMap[depth] = map ? 1 : 0;
    }
  }
  if (pos !== end) throw badFrame('bytes left over after the MessagePack value');
}
