// @ts-check
// The naive rules evaluation, as loadlight's rules stage used to do it, built from json-rules-engine
// directly: every declared metric's window at each evaluation, one engine for the global rules and
// one for the module rules, run once globally and once per module.
import { readFileSync } from 'node:fs';
import { Engine } from 'json-rules-engine';

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * json-rules-engine's `pathResolver` as the stage sets it: `$.a.b` by own properties.
 * @param {unknown} value
 * @param {string} path
 */
export function resolvePath(value, path) {
  if (path === '$') return value;
  if (!path.startsWith('$.')) return undefined;
  /** @type {any} */
  let node = value;
  for (const segment of path.slice(2).split('.')) {
    if (!segment || UNSAFE.has(segment) || node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

/** @param {Record<string, any>} target @param {string[]} segments @param {number | null} value */
function setPath(target, segments, value) {
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (next === undefined) node = node[segment] = {};
    else if (next !== null && typeof next === 'object') node = next;
    else return;
  }
  const leaf = /** @type {string} */ (segments[segments.length - 1]);
  if (Object.hasOwn(node, leaf) && node[leaf] !== null && typeof node[leaf] === 'object') return;
  node[leaf] = value;
}

/**
 * Every metric's statistic over the window (its declared aggregate, `rate_per_minute` for
 * counters, else `mean`), placed as facts: `<fact>.<path>` globally, `module.<name>.<field>` per
 * module with its name and tags.
 * @param {any} store a loadlight Store
 * @param {number} windowSeconds
 * @param {number} t
 */
export function buildFactsNaive(store, windowSeconds, t) {
  /** @type {Record<string, any>} */
  const global = {};
  /** @type {Map<string, Record<string, any>>} */
  const modules = new Map();
  for (const info of store.catalogue()) {
    const stats = info.unavailable ? null : store.window(info.name, windowSeconds, t);
    const aggregate = info.aggregate ?? (info.kind === 'counter' ? 'rate_per_minute' : 'mean');
    const value = stats === null ? null : stats[aggregate === 'rate_per_minute' ? 'ratePerMinute' : aggregate === 'slope_per_minute' ? 'slopePerMinute' : aggregate];
    if (info.module) {
      let fact = modules.get(info.module.name);
      if (!fact) modules.set(info.module.name, (fact = { name: info.module.name, tags: [] }));
      for (const tag of info.module.tags ?? []) if (!fact.tags.includes(tag)) fact.tags.push(tag);
      setPath(fact, info.module.field.split('.'), value);
    } else {
      const [name, ...segments] = info.name.split('.');
      setPath((global[name] ??= {}), segments, value);
    }
  }
  global.session = { uptime_seconds: Math.max(0, (t - store.originT) / 1000), samples: store.size };
  return { global, modules };
}

/**
 * The rules of these files in json-rules-engine's form: each rule, and an alert's `clearWhen` as
 * a rule of its own; `perModule` when a condition reads the module fact.
 * @param {string[]} files
 */
export function loadRules(files) {
  /** @type {Array<{ name: string, perModule: boolean, properties: any, event: any }>} */
  const rules = [];
  for (const file of files) {
    const data = JSON.parse(readFileSync(file, 'utf8'));
    for (const rule of data.rules) {
      // as the stage: a rule (and its clearWhen) runs per module when any of its conditions reads the module fact
      const perModule = JSON.stringify([rule.conditions, rule.event.params.clearWhen ?? null]).includes('"fact":"module"');
      const add = (/** @type {string} */ name, /** @type {unknown} */ conditions) =>
        rules.push({
          name,
          perModule,
          properties: { name, priority: rule.priority ?? 1, conditions: structuredClone(conditions), event: { type: rule.event.type, params: rule.event.params } },
          event: rule.event,
        });
      add(rule.name, rule.conditions);
      if (rule.event.type === 'alert' && rule.event.params.clearWhen) add(`${rule.name}:clear`, rule.event.params.clearWhen);
    }
  }
  return rules;
}

/**
 * @param {ReturnType<typeof loadRules>} rules
 */
export function engineOf(rules) {
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
  for (const rule of rules) engine.addRule(rule.properties);
  return engine;
}

/**
 * One naive evaluation's engine runs: the global engine once, the module engine once per module.
 * Resolves with the passed rules as `name` or `name|module`.
 * @param {{ global: any, module: any }} engines
 * @param {ReturnType<typeof buildFactsNaive>} facts
 */
export async function runNaive(engines, facts) {
  /** @type {Array<{ name: string, module?: string }>} */
  const passed = [];
  const { results } = await engines.global.run(facts.global);
  for (const r of results) passed.push({ name: String(r.name) });
  for (const [module, fact] of facts.modules) {
    const run = await engines.module.run({ ...facts.global, module: fact });
    for (const r of run.results) passed.push({ name: String(r.name), module });
  }
  return passed;
}
