import { modules } from './plugin.js';

export default modules;
export { modules, DEFAULT_OPTIONS, optionsSchema, MODULE_METRICS, WORKER_METRICS, type ModulesOptions } from './plugin.js';
export { profileModule, profile, moduleSpan, type ModuleOptions, type EndSpan } from './wrap.js';
export { watchWorker } from './workers.js';
export type { CpuMode } from './engine.js';
