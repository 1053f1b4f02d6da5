// @ts-check
// Command line of bench/run.mjs.

export const USAGE = `usage: node bench/run.mjs [topic...] [--quick] [--strict] [--list] [--help]

  topic     run only these topics (default: all); see --list
  --quick   short batches and few rounds (whole suite within a minute)
  --strict  exit with code 1 when a bound is missed (default: report it, exit 0)
  --list    print the topics and their groups, then exit
`;

/**
 * @typedef {object} BenchArgs
 * @property {string[]} topics
 * @property {boolean} quick
 * @property {boolean} strict
 * @property {boolean} list
 * @property {boolean} help
 */

/**
 * @param {string[]} argv arguments after the script name
 * @param {string[]} known topic ids
 * @returns {BenchArgs}
 */
export function parseArgs(argv, known) {
  /** @type {BenchArgs} */
  const args = { topics: [], quick: false, strict: false, list: false, help: false };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--strict') args.strict = true;
    else if (arg === '--list') args.list = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option "${arg}"\n\n${USAGE}`);
    else if (!known.includes(arg)) {
      throw new Error(`unknown topic "${arg}". Known topics: ${known.join(', ')}`);
    } else if (!args.topics.includes(arg)) args.topics.push(arg);
  }
  if (args.topics.length === 0) args.topics = [...known];
  return args;
}
