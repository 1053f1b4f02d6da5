// What the bot lets the profiler change while it runs. A recommendation that names one of these
// ids (for example "reduce OCR frequency" -> ocr.reduce-frequency) can be applied through
// `profiler.actions.run(id)`; each run is recorded in the session with the result returned here.

const REDUCED_OCR_EVERY = 4;
const REDUCED_HEATMAP_EVERY = 8;

/** `{ id: { description, apply(bot) -> short result } }` */
export const ACTIONS = {
  'ocr.reduce-frequency': {
    description: `read the HUD on every ${REDUCED_OCR_EVERY}th frame instead of every frame`,
    apply(bot) {
      const from = bot.settings.ocrEvery;
      bot.settings.ocrEvery = Math.max(from, REDUCED_OCR_EVERY);
      const fps = bot.options.fps;
      return { ocrEvery: { from, to: bot.settings.ocrEvery }, readsPerSecond: { from: fps / from, to: fps / bot.settings.ocrEvery } };
    },
  },
  'capture.disable-verbose': {
    description: 'stop writing every frame to disk',
    apply(bot) {
      const from = bot.settings.verbose;
      bot.settings.verbose = false;
      return { verbose: { from, to: false } };
    },
  },
  'heatmap.less-often': {
    description: `regenerate the heatmap on every ${REDUCED_HEATMAP_EVERY}th frame`,
    apply(bot) {
      const from = bot.settings.heatmapEvery;
      bot.settings.heatmapEvery = Math.max(from, REDUCED_HEATMAP_EVERY);
      return { heatmapEvery: { from, to: bot.settings.heatmapEvery } };
    },
  },
  'modules.disable-optional': {
    description: 'turn off the modules the bot can do without (the heatmap)',
    apply(bot) {
      const wasOn = bot.settings.heatmap;
      bot.settings.heatmap = false;
      return { disabled: wasOn ? ['analysis.heatmap'] : [] };
    },
  },
};

/** The modules whose load an action is about, so that its record says what the rules saw. */
const SUBJECTS = {
  'ocr.reduce-frequency': ['core.ocr', 'core.ocr.engine'],
  'capture.disable-verbose': ['capture.verbose'],
  'heatmap.less-often': ['analysis.heatmap'],
  'modules.disable-optional': ['analysis.heatmap'],
};

/** Registers every action with `profiler`; returns a function that unregisters them. */
export function registerActions(profiler, bot) {
  const unregister = Object.entries(ACTIONS).map(([id, action]) =>
    profiler.actions.register(
      id,
      ({ profiler: p }) => {
        // the load levels the rules gave the modules concerned when the action ran
        const levels = {};
        for (const level of p.evaluation?.levels ?? []) if (SUBJECTS[id].includes(level.subject)) levels[level.subject] = level.level;
        return { ...action.apply(bot), levelsBefore: levels };
      },
      { description: action.description },
    ),
  );
  return () => unregister.forEach((fn) => fn());
}
