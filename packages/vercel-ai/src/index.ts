// @palisade/vercel-ai: Palisade for the Vercel AI SDK (ai@6 and ai@7).

// The errors callers catch, so an application needs no second import for them.
export { DecisionBlockedError, PalisadeError } from '@palisade/core';
export type { GuardToolsOptions, PalisadeApprovalStatus, PalisadeToolApproval, ToolCallInfo } from './guard-tools.js';
export { guardTools, palisadeToolApproval } from './guard-tools.js';
export type { PalisadeMiddlewareOptions } from './palisade-middleware.js';
export { palisadeMiddleware } from './palisade-middleware.js';
export type { ReleasedStretch, StreamHoldBack, StreamHoldBackOptions } from './stream-hold-back.js';
export { createStreamHoldBack } from './stream-hold-back.js';
export type { AiSdkOutcome, ToAiSdkOutcomeOptions } from './to-ai-sdk-outcome.js';
export { toAiSdkOutcome } from './to-ai-sdk-outcome.js';
export type { DecisionHook, DecisionInfo, OnDecision, OnError, OutcomeType, PalisadeCallOptions, PalisadeMode } from './types.js';
