/**
 * The `ws` peer: the same protocol and JWT check as the raw uWS baseline on Node's HTTP server
 * and the `ws` library, topics as sets of sockets. With Redis, as the raw uWS server does.
 */
import { createSecretKey } from 'node:crypto';

import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { WebSocketServer, type WebSocket } from 'ws';

import { REDIS_CHANNEL_PREFIX, benchServerEnv, type RawClientMessage } from './bench-server-env.js';

const env = benchServerEnv(process.env);
const key = createSecretKey(Buffer.from(env.secret));
const topics = new Map<string, Set<WebSocket>>();
const redis = env.redisUrl ? new Redis(env.redisUrl) : undefined;

function deliver(topic: string, frame: Buffer): void {
  for (const socket of topics.get(topic) ?? []) socket.send(frame, { binary: false });
}

if (env.redisUrl) {
  const listener = new Redis(env.redisUrl);
  await listener.psubscribe(`${REDIS_CHANNEL_PREFIX}*`);
  listener.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    deliver(channel.subarray(REDIS_CHANNEL_PREFIX.length).toString(), payload);
  });
}

const server = new WebSocketServer({
  host: env.host,
  port: env.port,
  path: '/ws',
  verifyClient: ({ req }, done) => {
    try {
      jwt.verify((req.headers.authorization ?? '').slice('Bearer '.length), key, {
        algorithms: ['HS256'],
      });
      done(true);
    } catch {
      done(false, 401);
    }
  },
});

server.on('connection', (socket) => {
  const joined: string[] = [];
  socket.send('{"type":"welcome"}');
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as RawClientMessage;
    if (message.type === 'subscribe') {
      for (const topic of message.topics) {
        let set = topics.get(topic);
        if (!set) topics.set(topic, (set = new Set()));
        set.add(socket);
        joined.push(topic);
      }
      socket.send(JSON.stringify({ type: 'ack', id: message.id }));
    } else if (redis) {
      void redis.publish(`${REDIS_CHANNEL_PREFIX}${message.topic}`, data);
    } else {
      deliver(message.topic, data);
    }
  });
  socket.on('close', () => {
    for (const topic of joined) topics.get(topic)?.delete(socket);
  });
});
