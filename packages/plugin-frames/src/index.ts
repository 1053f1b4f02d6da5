import { frames } from './frames.js';

export default frames;
export { frames };
export { trackFrame, trackFrameDropped, frameStart, frameEnd, frameTimer } from './hot.js';
export { DEFAULT_OPTIONS, optionsSchema, type FramesOptions } from './options.js';
export { FRAMES_METRICS, type FramesMetricName } from './metrics.js';
