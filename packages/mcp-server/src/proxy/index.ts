// The guarded MCP proxy: its public surface (the package root re-exports these by name).
export type {
  EscalationOptions,
  GuardedProxy,
  GuardedProxyOptions,
  ProxyDecisionEvent,
  ProxyToolStatus,
  UpstreamCommand,
} from './create-guarded-proxy.js';
export { createGuardedProxy } from './create-guarded-proxy.js';
export type { PinHoldReason, PinStore, ToolPin } from './create-pin-store.js';
export { createPinStore, toolDefinitionHash } from './create-pin-store.js';
export type { SchemaCheck, SchemaValidator } from './create-schema-validator.js';
export { createSchemaValidator } from './create-schema-validator.js';
export type { ToolCoverage, ToolCoverageOptions } from './create-tool-coverage.js';
export { createToolCoverage } from './create-tool-coverage.js';
export type { ParsedProxyArguments, ProxyArguments } from './parse-proxy-arguments.js';
export { parseProxyArguments, proxyUsage } from './parse-proxy-arguments.js';
export type { ProxyRule } from './proxy-decision.js';
export { proxyPolicyId } from './proxy-decision.js';
export type { RunProxyCommandOptions } from './run-proxy-command.js';
export { runProxyCommand } from './run-proxy-command.js';
export type { PoisoningOptions, ToolDefinition, ToolDefinitionScan } from './scan-tool-definition.js';
export { defaultPoisoningFamilies, scanToolDefinition } from './scan-tool-definition.js';
export type { ProxyRefusal, ProxyRefusalCode } from './to-mcp-proxy-outcome.js';
export { proxyErrorMetaKey, toMcpProxyOutcome } from './to-mcp-proxy-outcome.js';
export { toolPoisoningPack, toolPoisoningScanner } from './tool-poisoning-pack.js';
