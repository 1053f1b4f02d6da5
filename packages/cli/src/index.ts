export { main, HELP } from './main.js';
export { runCommand, isNodeCommand, descendantsOf, moduleNameFor } from './run.js';
export { validateCommand } from './validate.js';
export { parseDuration, UsageError } from './args.js';
export { isSessionFileName } from './report/load.js';
