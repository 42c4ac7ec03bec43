/**
 * A device's presence record as RedisPresence stores it: one short string per device,
 * `<t>|<bytes of node>|<node><gateway>`. `t` is the connect time while a node holds the device
 * and the last-seen time once none does (node empty); the gateway, possibly empty, takes the rest,
 * so neither a node id nor a gateway name needs escaping. About 30 bytes for a direct device,
 * where JSON with field names took 60.
 */
export interface StoredRecord {
  t: number;
  /** Empty: offline. */
  node: string;
  /** Empty: the device connected by itself last. */
  gateway: string;
}

/** Longest record read back: anything longer was not written by a node (any Redis user can). */
const MAX_RECORD_CHARS = 1024;
const HEAD = /^(\d{1,15})\|(\d{1,4})\|/;

export function encodeRecord({ t, node, gateway }: StoredRecord): string {
  // Bytes, not UTF-16 units: the Lua side (string.len) counts bytes.
  return `${t}|${Buffer.byteLength(node)}|${node}${gateway}`;
}

/** The record, or undefined when the value is not one (garbage left by another Redis user). */
export function decodeRecord(value: string | null | undefined): StoredRecord | undefined {
  if (typeof value !== 'string' || value.length > MAX_RECORD_CHARS) return undefined;
  const head = HEAD.exec(value);
  if (!head) return undefined;
  const nodeBytes = Number(head[2]);
  const rest = Buffer.from(value.slice(head[0].length));
  if (rest.length < nodeBytes) return undefined;
  return {
    t: Number(head[1]),
    node: rest.subarray(0, nodeBytes).toString(),
    gateway: rest.subarray(nodeBytes).toString(),
  };
}

/**
 * The same parse in Lua, for the scripts that must read the node a record names before they
 * write it: defines `node_of(value)` (empty when offline or not a record) and `gateway_of`.
 */
export const LUA_RECORD = `
local function parse(v)
  if not v or string.len(v) > ${MAX_RECORD_CHARS} then return nil end
  local t, n, rest = string.match(v, '^(%d+)|(%d+)|(.*)$')
  if not t then return nil end
  n = tonumber(n)
  if string.len(rest) < n then return nil end
  return string.sub(rest, 1, n), string.sub(rest, n + 1)
end
local function node_of(v)
  local node = parse(v)
  return node or ''
end
local function gateway_of(v)
  local _, gateway = parse(v)
  return gateway or ''
end
local function encode(t, node, gateway)
  return t .. '|' .. string.len(node) .. '|' .. node .. gateway
end
`;
