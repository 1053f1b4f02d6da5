// Entry of the page: takes the token from the URL (then hides it from the address bar), mounts the panel.
import { createApp } from 'vue';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import PerfPanel from './PerfPanel.vue';
import { takeToken } from './lib/api.js';

let storage: Storage | null = null;
try {
  storage = window.sessionStorage;
} catch {
  storage = null; // storage blocked: the token from the URL still works until a reload
}
const { token, cleanHref } = takeToken(window.location.href, storage);
if (cleanHref) window.history.replaceState(window.history.state, '', cleanHref);

createApp(PerfPanel, { token }).mount('#app');
