// The OCR bot with the live dashboard: perf.config.ts plus the `dashboard` reporter, and the
// console reporter's one-line view, so that the panel's address stays in sight.
//   npx loadlight run --config examples/ocr-bot/perf.dashboard.config.ts -- node examples/ocr-bot/index.js
// or `npm run demo -- --dashboard`. OCR_BOT_DASHBOARD_PORT picks the port (default 7317; 0: any
// free one); LOADLIGHT_DASHBOARD_TOKEN fixes the token, so that an open page reconnects after a restart.
import { defineConfig, type PluginSpec } from '@loadlight/core';
import consoleReporter from '@loadlight/reporter-console';
import dashboard from '@loadlight/reporter-dashboard';
import base from './perf.config.js';

const portText = process.env.OCR_BOT_DASHBOARD_PORT ?? '';
const port = portText === '' ? 7317 : Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error(`OCR_BOT_DASHBOARD_PORT must be a port number from 0 to 65535, got "${portText}"`);
}
const isConsole = (r: PluginSpec) => r === 'console' || (typeof r === 'object' && !Array.isArray(r) && r.name === 'console');

export default defineConfig({
  ...base,
  reporters: [
    consoleReporter({ compact: true }),
    ...(base.reporters ?? []).filter((r) => !isConsole(r)),
    dashboard({ port, title: 'OCR bot' }),
  ],
});
