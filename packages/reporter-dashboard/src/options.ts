import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadlightError, validateOptions } from '@loadlight/core';

export const NAME = 'dashboard';
export const PACKAGE_NAME = '@loadlight/reporter-dashboard';

/** Environment variable that sets the token when the `token` option is not given. */
export const TOKEN_ENV = 'LOADLIGHT_DASHBOARD_TOKEN';

export interface DashboardOptions {
  /** Address to listen on. Default `127.0.0.1`. Beyond loopback needs `allowRemote: true`. */
  host?: string;
  /** Port; 0 picks a free one. Default 7317. */
  port?: number;
  /** GET requests (snapshot, session, rules, events) need the token too. Default true. */
  readsNeedToken?: boolean;
  /** Allow a `host` that is not a loopback address (logs a warning). Default false. */
  allowRemote?: boolean;
  /** Shown in the page's header and tab. Default "loadlight". */
  title?: string;
  /**
   * The access token (16 to 256 of `A-Z a-z 0-9 _ -`). Default: the `LOADLIGHT_DASHBOARD_TOKEN`
   * environment variable, else 32 random bytes per session. A fixed token lets an open page
   * reconnect after the program restarts.
   */
  token?: string;
  /** Do not print `loadlight dashboard: <url>` on stderr at start. Default false. */
  quiet?: boolean;
  /** Folder of the built page. Default: the package's own `dist/ui`. Relative to the config's folder. */
  uiDir?: string;
}

export const DEFAULT_PORT = 7317;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TITLE = 'loadlight';
const TOKEN_PATTERN = '^[A-Za-z0-9_-]{16,256}$';

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[^\\s/?#@\\[\\]]+$' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    readsNeedToken: { type: 'boolean' },
    allowRemote: { type: 'boolean' },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    token: { type: 'string', pattern: TOKEN_PATTERN },
    quiet: { type: 'boolean' },
    uiDir: { type: 'string', minLength: 1 },
  },
};

export interface DashboardSettings {
  host: string;
  port: number;
  readsNeedToken: boolean;
  /** The host is not a loopback address (and `allowRemote` allowed it). */
  remote: boolean;
  title: string;
  /** A fixed token (option or environment), or null for a random one per session. */
  token: string | null;
  quiet: boolean;
  /** As given (relative to the config's folder), or null for the package's own dist/ui. */
  uiDir: string | null;
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** Validates the options (errors name the option) and fills defaults. */
export function resolveSettings(options: DashboardOptions, env: NodeJS.ProcessEnv = process.env): DashboardSettings {
  validateOptions(NAME, optionsSchema, options);
  const host = options.host ?? DEFAULT_HOST;
  const remote = !isLoopback(host);
  if (remote && options.allowRemote !== true) {
    throw new LoadlightError(
      'PLUGIN_OPTIONS_INVALID',
      `plugin "${NAME}" options: "host" is ${JSON.stringify(host)}, which is not a loopback address: anyone who can reach ` +
        `this machine could open the panel and run actions. Set "allowRemote": true to listen there anyway.`,
      { plugin: NAME },
    );
  }
  let token: string | null = options.token ?? null;
  const fromEnv = env[TOKEN_ENV];
  if (token === null && fromEnv !== undefined && fromEnv !== '') {
    if (!new RegExp(TOKEN_PATTERN).test(fromEnv)) {
      throw new LoadlightError(
        'PLUGIN_OPTIONS_INVALID',
        `plugin "${NAME}": the ${TOKEN_ENV} environment variable must be 16 to 256 of A-Z a-z 0-9 _ -`,
        { plugin: NAME },
      );
    }
    token = fromEnv;
  }
  return {
    host,
    port: options.port ?? DEFAULT_PORT,
    readsNeedToken: options.readsNeedToken ?? true,
    remote,
    title: options.title ?? DEFAULT_TITLE,
    token,
    quiet: options.quiet ?? false,
    uiDir: options.uiDir ?? null,
  };
}

let packageRoot: string | undefined;

/** The folder of this package (from src/ in tests, from dist/ once built). */
export function packageDir(): string {
  if (packageRoot) return packageRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return (packageRoot = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The built page's folder: the `uiDir` option resolved from `baseDir`, else `<package>/dist/ui`. */
export function uiDirFor(settings: DashboardSettings, baseDir: string): string {
  return settings.uiDir ? path.resolve(baseDir, settings.uiDir) : path.join(packageDir(), 'dist', 'ui');
}
