import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { LocalRedis } from './redis.js';
import { waitUntil } from './wait.js';

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// These launch private servers: the restart and crash behaviour later suites rely on.
describe('local services', () => {
  it('stop and start again on the same port and keep serving', async () => {
    const redis = await LocalRedis.launch();
    try {
      const firstPid = redis.pid;
      await redis.stop();
      expect(redis.running).toBe(false);
      expect(await portAccepts(redis.port)).toBe(false);

      await redis.start();
      expect(redis.pid).not.toBe(firstPid);
      const client = new Redis(redis.url);
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await redis.dispose();
    }
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('end with their owner even when the owner is killed with SIGKILL', async () => {
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    const ownerPid = owner.pid as number;
    const redis = await LocalRedis.launch({ ownerPid });
    const servicePid = redis.pid as number;
    expect(processAlive(servicePid)).toBe(true);

    owner.kill('SIGKILL');

    await waitUntil(async () => !processAlive(servicePid) && !existsSync(redis.dir), {
      what: 'reaper to end the orphaned redis',
      timeoutMs: 15_000,
    });
    expect(await portAccepts(redis.port)).toBe(false);
  });
});
