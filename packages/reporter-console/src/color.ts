export type ColorEnv = Readonly<Record<string, string | undefined>>;

/**
 * Whether to colour, in this order:
 * 1. the `color` option, when given;
 * 2. `FORCE_COLOR`: `0` or `false` disables, any other value (even empty) enables, even off a
 *    TTY. It wins over `NO_COLOR`, as in Node itself: it is the more specific request;
 * 3. `NO_COLOR` with any non-empty value disables (https://no-color.org);
 * 4. `TERM=dumb` disables;
 * 5. otherwise colour exactly when the stream is a TTY.
 */
export function resolveColor(option: boolean | undefined, isTTY: boolean, env: ColorEnv = process.env): boolean {
  if (option !== undefined) return option;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false');
  if (env['NO_COLOR']) return false;
  if (env['TERM'] === 'dumb') return false;
  return isTTY;
}

/** Whether the stream can be redrawn in place: a TTY that understands cursor movement. */
export function isLiveTerminal(isTTY: boolean, env: ColorEnv = process.env): boolean {
  return isTTY && env['TERM'] !== 'dumb';
}
