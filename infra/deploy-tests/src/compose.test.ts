import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadEdgeConfig } from '@fleetwire/edge';
import { loadIngestConfig } from '@fleetwire/ingest';
import { selfSignedCertificate } from '@fleetwire/testkit';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

import { REPO_ROOT, serviceEnvNames } from './config-catalog.js';

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfiles are checked by reading
 * them: every name, path and port they use must be one the repository defines.
 */
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** Compose's `${NAME:-default}` interpolation, with the values a user is told to export. */
function interpolate(value: string | number): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::[-?][^}]*)?\}/g, (_m, name: string) =>
    name === 'FLEETWIRE_JWT_HS256_SECRET' ? 'a'.repeat(64) : '',
  );
}

function env(service: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
  );
}

describe('docker-compose.yml', () => {
  it('runs the backing services by default and the whole topology with the cluster profile', () => {
    const byDefault = Object.keys(services).filter((s) => !services[s]!.profiles);
    expect(byDefault.sort()).toEqual(['kafka', 'postgres', 'redis']);
    expect(Object.keys(services).sort()).toEqual([
      'edge-1',
      'edge-2',
      'grafana',
      'haproxy',
      'ingest',
      'kafka',
      'kafka-init',
      'postgres',
      'prometheus',
      'redis',
    ]);
    for (const name of Object.keys(services)) {
      for (const dependency of Object.keys(services[name]!.depends_on ?? {})) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      }
    }
  });

  it('gives edge and ingest only variables their config declares, with values it accepts', () => {
    for (const [service, kind] of [
      ['edge-1', 'edge'],
      ['edge-2', 'edge'],
      ['ingest', 'ingest'],
    ] as const) {
      const vars = env(service);
      const known = serviceEnvNames(kind);
      expect(Object.keys(vars).filter((name) => !known.has(name))).toEqual([]);
      const config = kind === 'edge' ? loadEdgeConfig(vars, 'x') : loadIngestConfig(vars, 'x');
      expect(config.nodeId).toBe(vars['FLEETWIRE_NODE_ID']);
    }
    expect(loadEdgeConfig(env('edge-1'), 'x')).toMatchObject({
      redis: { url: 'redis://redis:6379' },
      kafka: { brokers: ['kafka:19092'], topic: 'telemetry' },
      port: 8080,
    });
  });

  it('builds each service from the one Dockerfile, and mounts files that exist', () => {
    expect(services['edge-1']!.build).toEqual({
      context: '.',
      dockerfile: 'infra/docker/Dockerfile',
      args: { SERVICE: 'edge', PORT: '8080' },
    });
    expect(services['ingest']!.build).toEqual({
      context: '.',
      dockerfile: 'infra/docker/Dockerfile',
      args: { SERVICE: 'ingest', PORT: '8090' },
    });
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const host = volume.split(':')[0]!;
        // The certificate is made by infra/haproxy/make-cert.sh, into .local (not committed).
        if (host === './.local/tls/haproxy.pem') {
          expect(read('infra/haproxy/make-cert.sh')).toContain('.local/tls');
          continue;
        }
        expect(existsSync(join(REPO_ROOT, host)), `${name}: ${host}`).toBe(true);
      }
    }
  });

  it('HAProxy balances over exactly the edge services, and haproxy accepts its config', () => {
    const config = read('infra/haproxy/haproxy.cfg');
    const servers = [...config.matchAll(/^\s+server (\S+) (\S+):(\d+) check$/gm)].map(
      (m) => `${m[1]}=${m[2]}:${m[3]}`,
    );
    expect(servers).toEqual(['edge-1=edge-1:8080', 'edge-2=edge-2:8080']);
    const tls = selfSignedCertificate();
    const dir = tls.dir;
    try {
      writeFileSync(join(dir, 'haproxy.pem'), tls.cert + tls.key);
      writeFileSync(
        join(dir, 'haproxy.cfg'),
        config.replace('/usr/local/etc/haproxy/certs/haproxy.pem', join(dir, 'haproxy.pem')),
      );
      const haproxy = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
      // Exit 0 (warnings about edge-1/edge-2 not resolving here are expected: init-addr none).
      execFileSync(haproxy, ['-c', '-q', '-f', join(dir, 'haproxy.cfg')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Prometheus scrapes every edge, the ingest worker and HAProxy on the ports they serve', () => {
    const prometheus = parse(read('infra/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((c) => [
        c.job_name,
        c.static_configs.flatMap((s) => s.targets),
      ]),
    );
    expect(targets).toEqual({
      'fleetwire-edge': ['edge-1:8080', 'edge-2:8080'],
      'fleetwire-ingest': ['ingest:8090'],
      haproxy: ['haproxy:8404'],
    });
    for (const target of Object.values(targets).flat()) {
      expect(services).toHaveProperty(target.split(':')[0]!);
    }
    expect(loadIngestConfig(env('ingest'), 'x').port).toBe(8090);
  });
});

describe('infra/docker/Dockerfile', () => {
  const dockerfile = read('infra/docker/Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+ /.test(line))
    .map((line) => line.replace(/\s+/g, ' ').trim());
  const stages = instructions.filter((line) => line.startsWith('FROM '));

  it('is multi-stage on a pinned Node 20 Debian image', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(stages).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE} AS runtime']);
  });

  it('ships production dependencies only and runs as the unprivileged node user', () => {
    expect(instructions).toContain(
      'RUN pnpm deploy --legacy --filter @fleetwire/${SERVICE} --prod /out && rm -rf /out/src /out/tsconfig.json /out/tsconfig.tsbuildinfo',
    );
    const runtime = instructions.slice(instructions.indexOf('FROM ${NODE_IMAGE} AS runtime'));
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('COPY --from=build /out ./');
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    // The command is every service's own start script.
    for (const service of ['edge', 'ingest']) {
      const pkg = JSON.parse(read(`services/${service}/package.json`)) as {
        scripts: { start: string };
      };
      expect(pkg.scripts.start).toBe('node dist/main.js');
    }
    expect(runtime).toContain('EXPOSE ${PORT}');
  });

  it('copies from the build context only files that exist and are not docker-ignored', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources).toEqual(['pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc', '.']);
    for (const source of sources) expect(existsSync(join(REPO_ROOT, source))).toBe(true);
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});
