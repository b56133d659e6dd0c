// @palisade/langchain: Palisade at LangChain's seams. createAgent middleware (the main way in),
// a callback handler for chains and older agents, and a tool wrapper for code that calls tools.

export type { PalisadeAdapterOptions, ScopeOption } from './adapter-options.js';
export type { ApprovalAnswer, DecisionContext, DecisionHook, OnDecision, OnError } from './evaluate-event.js';
export type { GuardToolOptions, GuardToolScopeInput } from './guard-tool.js';
export { guardTool } from './guard-tool.js';
export type { CallbackScopeInput, PalisadeCallbackHandlerOptions } from './palisade-callback-handler.js';
export { PalisadeCallbackHandler } from './palisade-callback-handler.js';
export type { MiddlewareScopeInput, PalisadeMiddlewareOptions } from './palisade-middleware.js';
export { palisadeMiddleware } from './palisade-middleware.js';
export type { EnforcementMode, LangChainOutcome, RewriteKind, ToLangChainOutcomeOptions } from './to-langchain-outcome.js';
export { toLangChainOutcome } from './to-langchain-outcome.js';
