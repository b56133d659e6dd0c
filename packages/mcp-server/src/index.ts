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
