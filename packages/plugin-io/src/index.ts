import { io } from './io.js';

export default io;
export { io };
export { timeIo, trackIoWait, MAX_WAIT_MS } from './waits.js';
export { DEFAULT_OPTIONS, optionsSchema, type IoOptions } from './options.js';
export { HOST_METRICS, WAIT_METRICS } from './metrics.js';
