import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('opens with an example that runs', () => {
    const { example, status, stdout, stderr } = runReadmeExample(packageDir, { lang: 'ts', timeoutMs: 20_000 });
    expect(example).toContain("from '@loadlight/plugin-system'");
    expect(stderr).not.toMatch(/Error/);
    expect(status).toBe(0);
    for (const name of ['system.cpu.percent', 'process.memory.rss_mb', 'process.event_loop.delay_p99_ms', 'module.worker.cpu_percent']) {
      expect(stdout).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')} \\d+\\.\\d$`, 'm'));
    }
    // The warning the README promises when the worker ends first.
    expect(stderr).toMatch(/watched process "worker" \(pid \d+\) is not running/);
  });
});
