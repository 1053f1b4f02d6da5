import { validateOptions, type JsonSchema } from '@loadlight/core';

export const PLUGIN_NAME = 'ocr';

/**
 * The OCR source takes no options yet: what it measures is set by how the program calls
 * `trackOcrCall`, `timeOcr` and `instrumentTesseract`. An object is accepted (and checked) so
 * that `["ocr", {}]` in a JSON config reads like every other plugin.
 */
export type OcrOptions = Record<string, never>;

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {},
};

/** Validates once: an unknown option is a PLUGIN_OPTIONS_INVALID error naming it. */
export function resolveOptions(options: OcrOptions | undefined): void {
  validateOptions(PLUGIN_NAME, optionsSchema, options);
}
