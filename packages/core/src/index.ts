// Detection engine.

export type { CompiledConfig } from './config/compile-config.js';
export { compileConfig } from './config/compile-config.js';
export type { ConfigFile } from './config/config-schema.js';
export type { LoadConfigOptions, LoadedConfig } from './config/load-config.js';
export { loadConfig } from './config/load-config.js';
export { InputTooDeepError } from './errors/input-too-deep-error.js';
export { InputTooLargeError } from './errors/input-too-large-error.js';
export type { ConfigIssue } from './errors/invalid-config-error.js';
export { InvalidConfigError } from './errors/invalid-config-error.js';
export { InvalidInputError } from './errors/invalid-input-error.js';
export type { RulePackIssue } from './errors/invalid-rule-pack-error.js';
export { InvalidRulePackError } from './errors/invalid-rule-pack-error.js';
export type { PalisadeErrorCode } from './errors/palisade-error.js';
// Errors.
export { PalisadeError } from './errors/palisade-error.js';
export type { Explanation, Guard, GuardOptions, ReloadResult } from './guard/create-guard.js';
// Policies, configuration and the guard.
export { createGuard } from './guard/create-guard.js';
export type { GuardEvent } from './guard/decide.js';
export type { ResolutionStep } from './guard/resolve-policy.js';
export type { ConditionData, Predicate } from './policy/compile-condition.js';
export { compileCondition } from './policy/compile-condition.js';
export type { PresetName } from './policy/presets.js';
export { presetNames, presets } from './policy/presets.js';
export type {
  Action,
  Boundary,
  ConditionDefinition,
  DecidingRule,
  Decision,
  PolicyMode,
  PolicyRuleDefinition,
  ResolutionSource,
  RuleMatchDefinition,
  Scope,
  SuppressedDetection,
  SuppressionDefinition,
} from './policy/types.js';
export { actionRank, actions, boundaries, mostRestrictive } from './policy/types.js';
export type { RedactOptions, RedactResult } from './redact/redact.js';
export { redact, redactValue, restoreTokens } from './redact/redact.js';
export type { RulePackSource } from './rules/load-rule-packs.js';
export { defaultRulesDirectory } from './rules/load-rule-packs.js';
export type { Evidence } from './scanner/confidence.js';
export { adjustConfidence } from './scanner/confidence.js';
export type { RuleInfo, Scanner, ScannerOptions } from './scanner/create-scanner.js';
export { createScanner } from './scanner/create-scanner.js';
export type { Detection, DetectionLayer, Family, ScanResult, Severity, Span } from './types.js';

// Shared types.
export { families, severities, severityRank } from './types.js';
