/**
 * The `id` of a frame that was refused before it was decoded, so the `error` answer can carry it
 * as `ref`. Best effort and cheap: one linear pass that keeps no stack, reads only the top-level
 * object's `id` when it is a plain string of 1–64 characters, and gives up on anything odd.
 */
export function refOfRefusedFrame(bytes: Uint8Array, isBinary: boolean): string | undefined {
  try {
    return isBinary ? msgpackRef(bytes) : jsonRef(bytes);
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function plainId(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > 64) return undefined;
  const id = utf8.decode(bytes);
  return /^[\x20-\x7e]+$/.test(id) && !id.includes('\\') ? id : undefined;
}

const ID = [0x69, 0x64]; // "id"

function isId(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start === 2 && bytes[start] === ID[0] && bytes[start + 1] === ID[1];
}

function jsonRef(bytes: Uint8Array): string | undefined {
  let depth = 0;
  let lastStart = -1;
  let lastEnd = -1;
  let idValueNext = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i];
    if (c === 0x22) {
      const start = i + 1;
      let j = start;
      while (j < bytes.length && bytes[j] !== 0x22) j += bytes[j] === 0x5c ? 2 : 1;
      if (depth === 1) {
        if (idValueNext) return plainId(bytes.subarray(start, j));
        [lastStart, lastEnd] = [start, j];
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 0 && c !== 0x7b) return undefined;
      depth += 1;
      idValueNext = false;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    } else if (depth === 1 && c === 0x3a) {
      idValueNext = isId(bytes, lastStart, lastEnd);
    } else if (depth === 1 && c === 0x2c) {
      idValueNext = false;
    }
  }
  return undefined;
}

function uint(bytes: Uint8Array, at: number, size: number): number {
  if (at + size > bytes.length) throw new RangeError('truncated');
  let value = 0;
  for (let i = 0; i < size; i += 1) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

/** A value's header: bytes in the header and payload, and how many values it contains. */
function header(bytes: Uint8Array, at: number): { size: number; children: number } {
  const t = bytes[at];
  if (t === undefined) throw new RangeError('truncated');
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
    return { size: 1, children: 0 };
  }
  if (t >= 0x80 && t <= 0x8f) return { size: 1, children: (t & 0x0f) * 2 };
  if (t >= 0x90 && t <= 0x9f) return { size: 1, children: t & 0x0f };
  if (t >= 0xa0 && t <= 0xbf) return { size: 1 + (t & 0x1f), children: 0 };
  const fixed: Record<number, number> = {
    0xcc: 1,
    0xd0: 1,
    0xcd: 2,
    0xd1: 2,
    0xca: 4,
    0xce: 4,
    0xd2: 4,
    0xcb: 8,
    0xcf: 8,
    0xd3: 8,
    0xd4: 2,
    0xd5: 3,
    0xd6: 5,
    0xd7: 9,
    0xd8: 17,
  };
  const f = fixed[t];
  if (f !== undefined) return { size: 1 + f, children: 0 };
  switch (t) {
    case 0xc4:
    case 0xd9:
      return { size: 2 + uint(bytes, at + 1, 1), children: 0 };
    case 0xc5:
    case 0xda:
      return { size: 3 + uint(bytes, at + 1, 2), children: 0 };
    case 0xc6:
    case 0xdb:
      return { size: 5 + uint(bytes, at + 1, 4), children: 0 };
    case 0xc7:
      return { size: 3 + uint(bytes, at + 1, 1), children: 0 };
    case 0xc8:
      return { size: 4 + uint(bytes, at + 1, 2), children: 0 };
    case 0xc9:
      return { size: 6 + uint(bytes, at + 1, 4), children: 0 };
    case 0xdc:
      return { size: 3, children: uint(bytes, at + 1, 2) };
    case 0xdd:
      return { size: 5, children: uint(bytes, at + 1, 4) };
    case 0xde:
      return { size: 3, children: uint(bytes, at + 1, 2) * 2 };
    case 0xdf:
      return { size: 5, children: uint(bytes, at + 1, 4) * 2 };
    default:
      throw new RangeError('not MessagePack');
  }
}

/** Position after one whole value: a counter of values still to skip, no stack. */
function skipValue(bytes: Uint8Array, at: number): number {
  let pos = at;
  let pending = 1;
  while (pending > 0) {
    const { size, children } = header(bytes, pos);
    pos += size;
    if (pos > bytes.length) throw new RangeError('truncated');
    pending += children - 1;
  }
  return pos;
}

function msgpackRef(bytes: Uint8Array): string | undefined {
  const top = header(bytes, 0);
  const t = bytes[0] ?? 0;
  const isMap = (t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf;
  if (!isMap) return undefined;
  let pos = top.size;
  for (let entry = 0; entry < top.children / 2; entry += 1) {
    const key = header(bytes, pos);
    const keyIsId = key.size === 3 && bytes[pos] === 0xa2 && isId(bytes, pos + 1, pos + 3);
    pos = skipValue(bytes, pos);
    const value = bytes[pos] ?? 0;
    if (keyIsId) {
      if (value >= 0xa0 && value <= 0xbf) {
        return plainId(bytes.subarray(pos + 1, pos + 1 + (value & 0x1f)));
      }
      const length = bytes[pos + 1] ?? 0;
      return value === 0xd9 ? plainId(bytes.subarray(pos + 2, pos + 2 + length)) : undefined;
    }
    pos = skipValue(bytes, pos);
  }
  return undefined;
}
