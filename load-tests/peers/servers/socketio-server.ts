/**
 * The Socket.IO peer: WebSocket transport only, the JWT in the connect packet's auth, rooms as
 * topics, and @socket.io/redis-adapter across nodes.
 */
import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:http';

import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';

import { benchServerEnv } from './bench-server-env.js';

const env = benchServerEnv(process.env);
const key = createSecretKey(Buffer.from(env.secret));
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
if (env.redisUrl) {
  io.adapter(createAdapter(new Redis(env.redisUrl), new Redis(env.redisUrl)));
}

io.use((socket, next) => {
  try {
    jwt.verify(String((socket.handshake.auth as { token?: unknown }).token), key, {
      algorithms: ['HS256'],
    });
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  socket.on('subscribe', (topic: string, ack?: () => void) => {
    void socket.join(topic);
    ack?.();
  });
  socket.on('publish', (topic: string, data: unknown) => {
    io.to(topic).emit('message', data);
  });
});

http.listen(env.port, env.host);
