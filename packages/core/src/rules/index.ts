/**
 * The rules stage: facts from the Store's windows, json-rules-engine rules (compiled), load
 * levels, recommendations and alerts; rule files validated before use and re-read when edited.
 */
export { RulesStage, type RulesStageOptions, type RulesStageDebug, type RuleInfo } from './stage.js';
export { ruleFileSchema, type RuleFile, type RuleDefinition, type RuleEvent, type Condition, type LeafCondition, type TopLevelCondition } from './schema.js';
export {
  MODULE_FIELDS,
  STANDARD_FACTS,
  STANDARD_PATHS,
  FactIndex,
  buildFacts,
  factCatalogue,
  fillMessage,
  resolvePath,
  type FactCatalogueEntry,
  type Facts,
} from './facts.js';
export { loadRuleFile, parseRuleFile, parseDurationMs, type LoadedRule, type LoadedRuleFile, type RuleType } from './load.js';
export { AlertTracker, type AlertObservation } from './alerts.js';
export { findJsonSyntaxError } from './json.js';
