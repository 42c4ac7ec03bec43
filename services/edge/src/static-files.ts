import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';

import { sendError, sendJson } from './http-json.js';

export interface StaticFilesOptions {
  /** The built dashboard (its `index.html` and assets); absent: `/` points to the docs. */
  dir: string | undefined;
  logger: Logger;
}

/** Content types of what a built single-page app ships; anything else is served as bytes. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const OCTET_STREAM = 'application/octet-stream';

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? OCTET_STREAM;
}

/**
 * The file a URL path names inside `root`, or undefined when the path is not acceptable: bad
 * percent-encoding, NUL, backslashes, or any `.`/`..` segment (decoded, so `%2e%2e` counts too).
 * Refusing such segments outright, rather than normalising them, means no path can climb out.
 */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return undefined;
  const base = resolve(root);
  const file = segments.length === 0 ? join(base, 'index.html') : join(base, ...segments);
  // Belt and braces: the joined path must still be inside the root.
  return file.startsWith(base + sep) ? file : undefined;
}

/**
 * The dashboard's pages may load only its own files and talk only to their own origin (the
 * API, `/ws`): a device value that ever reached the page as markup could run nothing and send
 * nothing elsewhere. Nor may another site frame it (clickjacking the command form).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /*` for the dashboard: files from `dir` with their content type, `/` as `index.html`.
 * Registered after every other GET route, which uWS matches first because they are more
 * specific. Without a `dir`, `/` answers a small JSON document pointing to the docs.
 */
export function registerStaticFiles(app: TemplatedApp, { dir, logger }: StaticFilesOptions): void {
  if (dir === undefined) {
    app.get('/', (res) =>
      sendJson(res, '200 OK', {
        service: 'fleetwire-edge',
        websocket: '/ws',
        docs: 'docs/protocol.md and services/edge/README.md in the Fleetwire repository',
        message: 'no dashboard configured (FLEETWIRE_DASHBOARD_DIR)',
      }),
    );
    return;
  }
  app.get('/*', (res, req) => {
    const path = req.getUrl();
    const file = resolveStaticPath(dir, path);
    if (file === undefined) {
      sendError(res, 'bad_path', 'path not allowed');
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    serveFile(file).then(
      (found) => {
        if (aborted) return;
        if (!found) {
          sendError(res, 'not_found', `no file ${path}`);
          return;
        }
        const html = file.endsWith('.html');
        res.cork(() => {
          res
            .writeStatus('200 OK')
            .writeHeader('content-type', contentTypeOf(file))
            // index.html names the hashed assets: it must be fetched again after a rebuild.
            .writeHeader('cache-control', html ? 'no-cache' : 'max-age=3600')
            .writeHeader('x-content-type-options', 'nosniff');
          if (html) {
            res
              .writeHeader('content-security-policy', DASHBOARD_CSP)
              .writeHeader('referrer-policy', 'no-referrer');
          }
          res.end(found);
        });
      },
      (error: unknown) => {
        logger.error({ err: error, file }, 'static file read failed');
        if (!aborted) sendError(res, 'internal', 'internal error');
      },
    );
  });
}

/** The file's bytes, or undefined when it does not exist or is not a regular file. */
async function serveFile(file: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
