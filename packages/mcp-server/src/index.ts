// @palisade/mcp-server: the Palisade governance MCP server.

export type { ApiKeyEntry, RateLimit, Role } from './api-keys.js';
export { generateApiKey, hashApiKey, loadApiKeys, parseApiKeys, roles } from './api-keys.js';
export type { Caller } from './caller.js';
export { callerFromKey, localCaller, resolveTenant } from './caller.js';
export type { KeyRing } from './create-key-ring.js';
export { createKeyRing } from './create-key-ring.js';
export type { PalisadeMcpServerOptions, ToolCallInfo } from './create-palisade-mcp-server.js';
export { createPalisadeMcpServer, palisadeTools } from './create-palisade-mcp-server.js';
export type { RateLimiter, RateLimiterOptions, RateLimitVerdict } from './create-rate-limiter.js';
export { createRateLimiter, defaultRateLimit } from './create-rate-limiter.js';
// The guarded proxy.
export type {
  EscalationOptions,
  GuardedProxy,
  GuardedProxyOptions,
  ProxyDecisionEvent,
  ProxyToolStatus,
  UpstreamCommand,
} from './proxy/create-guarded-proxy.js';
export { createGuardedProxy } from './proxy/create-guarded-proxy.js';
export type { PinHoldReason, PinStore, ToolPin } from './proxy/create-pin-store.js';
export { createPinStore, toolDefinitionHash } from './proxy/create-pin-store.js';
export type { SchemaCheck, SchemaValidator } from './proxy/create-schema-validator.js';
export { createSchemaValidator } from './proxy/create-schema-validator.js';
export type { ToolCoverage, ToolCoverageOptions } from './proxy/create-tool-coverage.js';
export { createToolCoverage } from './proxy/create-tool-coverage.js';
export type { ParsedProxyArguments, ProxyArguments } from './proxy/parse-proxy-arguments.js';
export { parseProxyArguments, proxyUsage } from './proxy/parse-proxy-arguments.js';
export type { ProxyRule } from './proxy/proxy-decision.js';
export { proxyPolicyId } from './proxy/proxy-decision.js';
export type { RunProxyCommandOptions } from './proxy/run-proxy-command.js';
export { runProxyCommand } from './proxy/run-proxy-command.js';
export type { PoisoningOptions, ToolDefinition, ToolDefinitionScan } from './proxy/scan-tool-definition.js';
export { defaultPoisoningFamilies, scanToolDefinition } from './proxy/scan-tool-definition.js';
export type { ProxyRefusal, ProxyRefusalCode } from './proxy/to-mcp-proxy-outcome.js';
export { proxyErrorMetaKey, toMcpProxyOutcome } from './proxy/to-mcp-proxy-outcome.js';
export { toolPoisoningPack, toolPoisoningScanner } from './proxy/tool-poisoning-pack.js';
export type { PalisadeToolName } from './role-tools.js';
export { canCall, roleTools, toolNames } from './role-tools.js';
export type { CliIo, ServeSettings } from './run-cli.js';
export { parseServeArguments, runCli, UsageError } from './run-cli.js';
export type { PalisadeHttpServer, PalisadeHttpServerOptions } from './start-palisade-http-server.js';
export { startPalisadeHttpServer } from './start-palisade-http-server.js';
export type { PalisadeStdioServer, PalisadeStdioServerOptions } from './start-palisade-stdio-server.js';
export { startPalisadeStdioServer } from './start-palisade-stdio-server.js';
export type { ToolErrorCode, ToolOutcome } from './to-mcp-outcome.js';
export { errorMetaKey, toMcpOutcome } from './to-mcp-outcome.js';
export type { AdapterInfo, PalisadeTool } from './tools/define-tool.js';
