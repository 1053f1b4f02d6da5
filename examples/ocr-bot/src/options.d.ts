export interface BotOptions {
  help: boolean;
  durationMs: number | null;
  fps: number;
  ocrEvery: number;
  heatmapEvery: number;
  verbose: boolean;
  heatmap: boolean;
  applyAfterMs: number | null;
  outDir: string | null;
  defaultOutPrefix: string;
  seed: number;
}
export declare const USAGE: string;
export declare class OptionsError extends Error {}
export declare function parseDurationMs(text: string, name: string): number;
export declare function parseOptions(argv?: string[], env?: NodeJS.ProcessEnv): BotOptions;
export declare function fpsOf(argv?: string[], env?: NodeJS.ProcessEnv): number;
