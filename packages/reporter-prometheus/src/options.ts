import { LoadlightError, validateOptions } from '@loadlight/core';

export const NAME = 'prometheus';

export interface PrometheusOptions {
  /** Address to listen on. Default `127.0.0.1`; `0.0.0.0` lets a Prometheus on another machine scrape. */
  host?: string;
  /** Port; 0 picks a free one (read it from `reporter.url`). Default 9317. */
  port?: number;
  /** Path of the metrics. Default `/metrics`. */
  path?: string;
  /**
   * Labels added to every series, to tell many bots apart (`{ bot: 'reader-1' }`). Prometheus
   * adds `job` and `instance` itself from its scrape config, so those two are refused here.
   */
  labels?: Record<string, string>;
  /** Start of every metric name. Default `loadlight_`; `''` for none. */
  prefix?: string;
  /** Do not print `loadlight prometheus: <url>` on stderr at start. Default false. */
  quiet?: boolean;
}

export interface PrometheusSettings {
  host: string;
  port: number;
  path: string;
  labels: Record<string, string>;
  prefix: string;
  quiet: boolean;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 9317;
export const DEFAULT_PATH = '/metrics';
export const DEFAULT_PREFIX = 'loadlight_';

/** Labels this reporter sets on its own series: a `labels` option may not reuse them. */
export const OWN_LABELS = ['module', 'tags', 'subject', 'kind', 'alert', 'severity', 'state', 'session'] as const;
/** Labels Prometheus sets from its scrape config (a clash would be renamed `exported_<name>`). */
export const TARGET_LABELS = ['job', 'instance'] as const;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[^\\s/?#@\\[\\]]+$' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    path: { type: 'string', minLength: 1, maxLength: 200, pattern: '^/[^\\s?#]*$' },
    labels: { type: 'object', maxProperties: 32, additionalProperties: { type: 'string', maxLength: 1024 } },
    prefix: { type: 'string', maxLength: 100, pattern: '^([a-zA-Z_][a-zA-Z0-9_]*)?$' },
    quiet: { type: 'boolean' },
  },
};

function invalid(message: string): LoadlightError {
  return new LoadlightError('PLUGIN_OPTIONS_INVALID', `plugin "${NAME}" options: ${message}`, { plugin: NAME });
}

/** Validates the options (an error names the option) and fills defaults. */
export function resolveSettings(options: PrometheusOptions): PrometheusSettings {
  validateOptions(NAME, optionsSchema, options);
  const labels = options.labels ?? {};
  for (const name of Object.keys(labels)) {
    const where = `"labels.${name}"`;
    if (!LABEL_NAME.test(name)) {
      throw invalid(`${where}: a label name is letters, digits and "_", not starting with a digit`);
    }
    if (name.startsWith('__')) throw invalid(`${where}: names starting with "__" are reserved by Prometheus`);
    if ((TARGET_LABELS as readonly string[]).includes(name)) {
      throw invalid(`${where}: Prometheus sets "${name}" itself from its scrape config; name the bot with another label, like "bot"`);
    }
    if ((OWN_LABELS as readonly string[]).includes(name)) {
      throw invalid(`${where}: "${name}" is a label of loadlight's own series; choose another name`);
    }
  }
  return {
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    path: options.path ?? DEFAULT_PATH,
    labels: { ...labels },
    prefix: options.prefix ?? DEFAULT_PREFIX,
    quiet: options.quiet ?? false,
  };
}
