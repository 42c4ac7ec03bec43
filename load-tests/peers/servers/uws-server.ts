/**
 * The raw uWS baseline: uWebSockets.js with the same JWT check at upgrade as Fleetwire
 * (jsonwebtoken, HS256, a KeyObject), native topics, frames forwarded as they came. With Redis,
 * every publish crosses it once and each node delivers what it hears.
 */
import { createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';

import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import type * as UWS from 'uWebSockets.js';

import { REDIS_CHANNEL_PREFIX, benchServerEnv, type RawClientMessage } from './bench-server-env.js';

const env = benchServerEnv(process.env);
const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof UWS;
const key = createSecretKey(Buffer.from(env.secret));
const app = uws.App();
const redis = env.redisUrl ? new Redis(env.redisUrl) : undefined;

if (env.redisUrl) {
  const listener = new Redis(env.redisUrl);
  await listener.psubscribe(`${REDIS_CHANNEL_PREFIX}*`);
  listener.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    app.publish(channel.subarray(REDIS_CHANNEL_PREFIX.length).toString(), payload, false);
  });
}

/**
 * uWS's fastest fan-out path: publishes made at the end of the tick, outside the publisher's
 * cork, so uWS writes each subscriber's pending messages together (see services/edge
 * transports/tick-publisher.ts). BENCH_UWS_PUBLISH=at-once publishes inside the message
 * handler instead: one send() per delivery.
 */
const PUBLISH_AT_ONCE = process.env['BENCH_UWS_PUBLISH'] === 'at-once';
const held: Array<[string, Buffer]> = [];
function flush(): void {
  for (const [topic, data] of held.splice(0)) app.publish(topic, data, false);
}

app.ws<{ sub: string }>('/ws', {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  sendPingsAutomatically: true,
  maxBackpressure: 1024 * 1024,
  closeOnBackpressureLimit: 1,
  upgrade: (res, req, context) => {
    const authorization = req.getHeader('authorization');
    const secKey = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    let sub: string;
    try {
      const claims = jwt.verify(authorization.slice('Bearer '.length), key, {
        algorithms: ['HS256'],
      }) as { sub: string };
      sub = claims.sub;
    } catch {
      res.writeStatus('401 Unauthorized').end();
      return;
    }
    res.upgrade({ sub }, secKey, protocol, extensions, context);
  },
  open: (ws) => void ws.send('{"type":"welcome"}'),
  message: (ws, data) => {
    const message = JSON.parse(Buffer.from(data).toString()) as RawClientMessage;
    if (message.type === 'subscribe') {
      for (const topic of message.topics) ws.subscribe(topic);
      ws.send(JSON.stringify({ type: 'ack', id: message.id }));
    } else if (redis) {
      void redis.publish(`${REDIS_CHANNEL_PREFIX}${message.topic}`, Buffer.from(data.slice(0)));
    } else if (PUBLISH_AT_ONCE) {
      app.publish(message.topic, data, false);
    } else {
      if (held.length === 0) setImmediate(flush);
      held.push([message.topic, Buffer.from(data.slice(0))]);
    }
  },
});

app.listen(env.host, env.port, (token) => {
  if (!token) {
    console.error(`cannot listen on ${env.host}:${env.port}`);
    process.exit(1);
  }
});
