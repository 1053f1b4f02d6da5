import { system } from './system.js';

export default system;
export { system };
export { watchProcess } from './children.js';
export { DEFAULT_OPTIONS, optionsSchema, type SystemOptions, type WatchedProcessOption } from './options.js';
export { EVENT_LOOP_METRICS, GC_METRICS, HOST_METRICS, PROCESS_METRICS } from './metrics.js';
