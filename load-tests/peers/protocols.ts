/**
 * What differs between the servers on the wire, and nothing else: the upgrade path, the frames
 * that open a session, subscribe and publish, and how each says "ready". Every server gets the
 * same JWT (HS256, `sub`/`role`/`tenant`) and the same publish data, so the clients are alike.
 */
import jwt from 'jsonwebtoken';

export const SECRET = 'peer-bench-secret-that-is-at-least-32-bytes';

/** Every publish carries it; a subscriber counts deliveries by finding it. */
export const MARKER = 'PEERMSG';

export type ProtocolName = 'fleetwire' | 'raw' | 'socketio' | 'centrifugo';

export interface ClientProtocol {
  path(token: string): string;
  headers(token: string): Record<string, string>;
  /** Sent once the upgrade succeeded, if the protocol opens its session with a frame. */
  hello(token: string): string | undefined;
  /** Answer to a server frame (a session-open packet, an application ping), if any. */
  answer(frame: string, token: string): string | undefined;
  isReady(frame: string): boolean;
  subscribe(topic: string): string;
  isSubscribed(frame: string): boolean;
  publish(topic: string, data: string, seq: number): string;
}

export function token(sub: string, role: 'device' | 'dashboard'): string {
  return jwt.sign({ sub, role, tenant: 'bench' }, SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
}

/** Fleetwire's JSON protocol (docs/protocol.md): devices publish telemetry to their own topic. */
const fleetwire: ClientProtocol = {
  path: () => '/ws',
  headers: (t) => ({ authorization: `Bearer ${t}` }),
  hello: () => undefined,
  answer: () => undefined,
  isReady: (frame) => frame.includes('"type":"welcome"'),
  subscribe: (topic) => JSON.stringify({ type: 'subscribe', id: 's', topics: [topic] }),
  isSubscribed: (frame) => frame.includes('"type":"ack"') && frame.includes('"id":"s"'),
  publish: (_topic, data) => `{"type":"telemetry","data":${data}}`,
};

/** The raw uWS and `ws` servers of servers/: the same JSON shapes, frames forwarded as they are. */
const raw: ClientProtocol = {
  ...fleetwire,
  publish: (topic, data) => `{"type":"publish","topic":${JSON.stringify(topic)},"data":${data}}`,
};

/** Engine.IO 4 over a WebSocket: `0{…}` opens, `40{auth}` connects, `2`/`3` ping and pong. */
const socketio: ClientProtocol = {
  path: () => '/socket.io/?EIO=4&transport=websocket',
  headers: () => ({}),
  hello: () => undefined,
  answer: (frame, t) => {
    if (frame === '2') return '3';
    if (frame.startsWith('0{')) return `40${JSON.stringify({ token: t })}`;
    return undefined;
  },
  isReady: (frame) => frame.startsWith('40{'),
  subscribe: (topic) => `421${JSON.stringify(['subscribe', topic])}`,
  isSubscribed: (frame) => frame.startsWith('431'),
  publish: (topic, data) => `42["publish",${JSON.stringify(topic)},${data}]`,
};

/** Centrifugo's JSON protocol: commands with ids, pushes without; `{}` is its ping. */
const centrifugo: ClientProtocol = {
  path: () => '/connection/websocket',
  headers: () => ({}),
  hello: (t) => JSON.stringify({ id: 1, connect: { token: t, name: 'bench' } }),
  answer: (frame) => (frame === '{}' ? '{}' : undefined),
  isReady: (frame) => frame.includes('"id":1,') && frame.includes('"connect"'),
  subscribe: (topic) => JSON.stringify({ id: 2, subscribe: { channel: topic } }),
  isSubscribed: (frame) => frame.includes('"id":2,'),
  publish: (topic, data, seq) =>
    `{"id":${seq + 10},"publish":{"channel":${JSON.stringify(topic)},"data":${data}}}`,
};

export const PROTOCOLS: Readonly<Record<ProtocolName, ClientProtocol>> = {
  fleetwire,
  raw,
  socketio,
  centrifugo,
};
