// Detection engine.

export { InputTooDeepError } from './errors/input-too-deep-error.js';
export { InputTooLargeError } from './errors/input-too-large-error.js';
export { InvalidInputError } from './errors/invalid-input-error.js';
export type { RulePackIssue } from './errors/invalid-rule-pack-error.js';
export { InvalidRulePackError } from './errors/invalid-rule-pack-error.js';
export type { PalisadeErrorCode } from './errors/palisade-error.js';
// Errors.
export { PalisadeError } from './errors/palisade-error.js';
export type { RedactOptions, RedactResult } from './redact/redact.js';
export { redact, restoreTokens } from './redact/redact.js';
export type { RulePackSource } from './rules/load-rule-packs.js';
export { defaultRulesDirectory } from './rules/load-rule-packs.js';
export type { Evidence } from './scanner/confidence.js';
export { adjustConfidence } from './scanner/confidence.js';
export type { RuleInfo, Scanner, ScannerOptions } from './scanner/create-scanner.js';
export { createScanner } from './scanner/create-scanner.js';
export type { Detection, DetectionLayer, Family, ScanResult, Severity, Span } from './types.js';
// Shared types.
export { families, severities, severityRank } from './types.js';
