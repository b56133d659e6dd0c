// Detection engine.

// Runtime state: stores, approvals, budgets, audit, events and alerts.
export type { Alert, AlertChannel, ChannelOptions, DeliveryResult } from './alerts/alert-channel.js';
export type { Alerter, AlerterOptions, AlertFailure, ChannelStats } from './alerts/create-alerter.js';
export { createAlerter } from './alerts/create-alerter.js';
export { createChannel } from './alerts/create-channel.js';
export { signWebhookPayload } from './alerts/create-webhook-channel.js';
export type { VerifyWebhookSignatureOptions } from './alerts/verify-webhook-signature.js';
export { verifyWebhookSignature } from './alerts/verify-webhook-signature.js';
export type { ApprovalOutcome, ApprovalQueue, ApprovalQueueOptions, ApprovalWaitResult } from './approvals/approval-queue.js';
export { callHash, createApprovalQueue } from './approvals/approval-queue.js';
export type { AuditFileSystem } from './audit/audit-file-system.js';
export { nodeAuditFileSystem } from './audit/audit-file-system.js';
export type {
  AuditAppendResult,
  AuditEvent,
  AuditFailureMode,
  AuditFsyncPolicy,
  AuditLog,
  AuditLogOptions,
  AuditRecovery,
  AuditStats,
} from './audit/audit-log.js';
export { auditLogOptionsFromConfig, openAuditLog } from './audit/audit-log.js';
export { canonicalJson } from './audit/canonical-json.js';
export type { ReadAuditOptions } from './audit/read-audit.js';
export { readAudit } from './audit/read-audit.js';
export type { AuditReceipt, AuditRecord } from './audit/seal-receipt.js';
export { GENESIS_HASH } from './audit/seal-receipt.js';
export type { AuditProblem, AuditVerification, VerifyAuditOptions } from './audit/verify-audit.js';
export { verifyAudit } from './audit/verify-audit.js';
export type {
  BudgetCheck,
  BudgetLimitState,
  BudgetManager,
  BudgetManagerOptions,
  CostEstimate,
  CostSummary,
  CostSummaryQuery,
  ModelUsage,
  ReserveOutcome,
  SettleOutcome,
} from './budgets/budget-manager.js';
export { createBudgetManager } from './budgets/budget-manager.js';
export type { BudgetWindow } from './budgets/budget-window.js';
export { budgetWindow } from './budgets/budget-window.js';
export type { LoadPriceTableOptions, Price, PriceTable, TokenUsage } from './budgets/price-table.js';
export { defaultPriceFile, loadPriceTable } from './budgets/price-table.js';
export type { BudgetAction, BudgetScope } from './budgets/resolve-budget-limits.js';
export type { CompiledConfig } from './config/compile-config.js';
export { compileConfig } from './config/compile-config.js';
export type {
  AlertChannelConfig,
  AlertsConfig,
  ApprovalsConfig,
  AuditConfig,
  BudgetLimitConfig,
  BudgetsConfig,
  ConfigFile,
  StoreConfig,
} from './config/config-schema.js';
export { parseSection } from './config/config-schema.js';
export type { LoadConfigOptions, LoadedConfig } from './config/load-config.js';
export { loadConfig } from './config/load-config.js';
export { parseDuration, parseSize } from './config/units.js';
export { AuditFailedError } from './errors/audit-failed-error.js';
export { AuditLockedError } from './errors/audit-locked-error.js';
export { DecisionBlockedError } from './errors/decision-blocked-error.js';
export { InputTooDeepError } from './errors/input-too-deep-error.js';
export { InputTooLargeError } from './errors/input-too-large-error.js';
export type { ConfigIssue } from './errors/invalid-config-error.js';
export { InvalidConfigError } from './errors/invalid-config-error.js';
export { InvalidInputError } from './errors/invalid-input-error.js';
export type { RulePackIssue } from './errors/invalid-rule-pack-error.js';
export { InvalidRulePackError } from './errors/invalid-rule-pack-error.js';
export { NotFoundError } from './errors/not-found-error.js';
export type { PalisadeErrorCode } from './errors/palisade-error.js';
// Errors.
export { PalisadeError } from './errors/palisade-error.js';
export { StoreFailedError } from './errors/store-failed-error.js';
export { UnknownModelError } from './errors/unknown-model-error.js';
export type { EventBus, EventBusOptions, EventBusStats, EventHandler } from './events/event-bus.js';
export { createEventBus, matchesEventFilter } from './events/event-bus.js';
export type { BudgetEventDetail, EventFilter, PalisadeEvent, PalisadeEventType } from './events/events.js';
export { eventTypes } from './events/events.js';
export type { Explanation, Guard, GuardOptions, GuardState, ReloadResult } from './guard/create-guard.js';
// Policies, configuration and the guard.
export { createGuard } from './guard/create-guard.js';
export type { GuardEvent } from './guard/decide.js';
export type { ReceiptContent } from './guard/receipts.js';
export { approvalReceipt, decisionReceipt } from './guard/receipts.js';
export type { ResolutionStep } from './guard/resolve-policy.js';
export type { StateOptions } from './guard/runtime-state.js';
export type { ConditionData, Predicate } from './policy/compile-condition.js';
export { compileCondition } from './policy/compile-condition.js';
export { matchesAnyGlob } from './policy/glob.js';
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
export { createMemoryStore } from './store/memory-store.js';
export type { Sealer } from './store/sealer.js';
export { createSealer, loadSealKey } from './store/sealer.js';
export type { SqliteStoreOptions } from './store/sqlite-store.js';
export { openSqliteStore } from './store/sqlite-store.js';
export type {
  ApprovalFilter,
  ApprovalStatus,
  ApprovalTicket,
  ApprovalTransition,
  ApprovalVote,
  AuditIndexRow,
  AuditQuery,
  BudgetPeriod,
  CounterKey,
  CounterState,
  ReserveRequest,
  ReserveResult,
  Store,
  TransitionResult,
  UsageQuery,
  UsageRecord,
  UsageSummary,
  VaultEntry,
} from './store/store.js';
export { approvalStatuses, budgetPeriods } from './store/store.js';
export type { TokenVault, TokenVaultOptions } from './store/token-vault.js';
export { createTokenVault } from './store/token-vault.js';
export type { Detection, DetectionLayer, Family, ScanResult, Severity, Span } from './types.js';
// Shared types.
export { families, severities, severityRank } from './types.js';
