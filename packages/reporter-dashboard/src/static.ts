import { readFile, realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { CONTENT_SECURITY_POLICY } from './protocol.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers every static answer carries: the page's scripts and styles come from this server only. */
export const STATIC_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export type StaticResult =
  | { kind: 'file'; file: string; contentType: string; cacheControl: string }
  | { kind: 'bad-path'; message: string }
  | { kind: 'not-found' }
  | { kind: 'not-built' };

/**
 * Maps a request path to a file of the built page, refusing anything outside `root`: `..` and `.`
 * segments (raw or percent-encoded), backslashes, NUL, dotfiles, and symlinks that lead out.
 * `rawPath` is the path as sent (before any normalisation), without the query.
 */
export async function resolveStatic(root: string, rawPath: string): Promise<StaticResult> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'bad-path', message: 'the path is not valid percent-encoding' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) {
    return { kind: 'bad-path', message: 'the path holds a character files are never served for' };
  }
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { kind: 'bad-path', message: 'the path leaves the dashboard\'s files' };
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'not-found' };

  let rootReal: string;
  try {
    rootReal = await realpath(root);
    await stat(path.join(rootReal, 'index.html'));
  } catch {
    return { kind: 'not-built' };
  }
  const relative = decoded === '/' ? 'index.html' : segments.join(path.sep);
  const candidate = path.resolve(rootReal, relative);
  if (!isInside(rootReal, candidate)) return { kind: 'bad-path', message: 'the path leaves the dashboard\'s files' };
  let file: string;
  try {
    file = await realpath(candidate);
    if (!isInside(rootReal, file) || !(await stat(file)).isFile()) return { kind: 'not-found' };
  } catch {
    return { kind: 'not-found' };
  }
  const ext = path.extname(file).toLowerCase();
  const hashed = segments[0] === 'assets';
  return {
    kind: 'file',
    file,
    contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    // Vite names assets by content hash; the page itself is re-checked at every load.
    cacheControl: hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export async function sendFile(res: ServerResponse, found: Extract<StaticResult, { kind: 'file' }>, head: boolean): Promise<void> {
  const body = await readFile(found.file);
  res.writeHead(200, {
    ...STATIC_HEADERS,
    'Content-Type': found.contentType,
    'Content-Length': body.length,
    'Cache-Control': found.cacheControl,
  });
  res.end(head ? undefined : body);
}

/** The page shown at `/` while the UI has not been built: says what to run. */
export function notBuiltPage(uiDir: string): string {
  const escaped = uiDir.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>loadlight dashboard: UI not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>The dashboard's page is not built</h1>
<p>The server runs and its JSON API answers, but the page's files are missing from <code>${escaped}</code>.</p>
<p>Build them with <code>npm run build -w @loadlight/reporter-dashboard</code>, then reload.</p>
</body></html>
`;
}
