import { ocr } from './ocr.js';

export default ocr;
export { ocr };
export { trackOcrCall, timeOcr } from './hot.js';
export { instrumentTesseract, uninstrumentTesseract, isTesseractInstrumented, type RecognizingWorker } from './tesseract.js';
export { optionsSchema, type OcrOptions } from './options.js';
export { OCR_METRICS, type OcrMetricName } from './metrics.js';
