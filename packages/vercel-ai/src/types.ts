import type { Decision } from '@palisade/core';

// The AI SDK shapes this adapter reads and writes, written structurally: they are the parts that
// LanguageModelV3 (ai@6) and LanguageModelV4 (ai@7) share, so one implementation serves both
// without importing either provider package. Everything else passes through untouched.

/** `enforce` acts on decisions; `shadow` records them (onDecision, audit) and changes nothing. */
export type PalisadeMode = 'enforce' | 'shadow';

/** Where in the AI SDK a decision was made. */
export type DecisionHook = 'transformParams' | 'wrapGenerate' | 'wrapStream' | 'execute' | 'needsApproval' | 'toolApproval';

/**
 * What the adapter did with a decision (or, in shadow mode, would have done): `continue` lets it
 * through, `rewrite` substitutes the redacted text or arguments, `approval` holds a tool call for
 * a human, `refuse` stops it with a `DecisionBlockedError`.
 */
export type OutcomeType = 'continue' | 'rewrite' | 'approval' | 'refuse';

/**
 * How the AI SDK's identifiers travel with a decision. The decision's own `eventId` is core's
 * (it is what the audit receipt, the approval ticket and `DecisionBlockedError` carry); this is
 * how to join it to the SDK's run: log `decision.eventId` beside `toolCallId` and `runId`.
 */
export interface DecisionInfo {
  hook: DecisionHook;
  mode: PalisadeMode;
  outcome: OutcomeType;
  /**
   * False in shadow mode. A tool-call decision about a tool `guardTools` wraps is enforced by the
   * tool guard when the SDK goes to run it (it reuses the decision; it is not reported twice).
   */
  enforced: boolean;
  /** The AI SDK tool call id (`tool_call` and `tool_result` decisions). */
  toolCallId?: string;
  /** `providerOptions.palisade.runId` of the call, when the caller set one. */
  runId?: string;
  /** One id per model call (one step of a generateText/streamText run), made by the middleware. */
  modelCallId?: string;
  modelId?: string;
  /**
   * Streamed text only: `segment` is a stretch released mid-stream that held a detection (the
   * decision acted on it); `final` is the whole text block once it ended (the record, as for
   * generateText, which can still stop the stream).
   */
  stage?: 'segment' | 'final';
}

export type OnDecision = (decision: Decision, info: DecisionInfo) => void;

/** Failures that are not decisions (recording usage, a throwing onDecision); they never change a decision. */
export type OnError = (error: unknown, info: { hook: DecisionHook; modelId?: string }) => void;

/** Per-call options under `providerOptions.palisade` (stripped before the request reaches the provider). */
export interface PalisadeCallOptions {
  scope?: { tenantId?: string; appId?: string; userId?: string; sessionId?: string; policyId?: string };
  runId?: string;
}

// ---------- prompt (LanguageModelV3Prompt / LanguageModelV4Prompt) ----------

export interface PromptPart {
  type: string;
  [key: string]: unknown;
}

export interface TextPromptPart extends PromptPart {
  type: 'text';
  text: string;
}

export type ToolResultOutput =
  | { type: 'text' | 'error-text'; value: string; [key: string]: unknown }
  | { type: 'json' | 'error-json'; value: unknown; [key: string]: unknown }
  | { type: 'content'; value: PromptPart[]; [key: string]: unknown }
  | { type: 'execution-denied'; reason?: string; [key: string]: unknown };

export interface ToolResultPromptPart extends PromptPart {
  type: 'tool-result';
  toolCallId: string;
  toolName: string;
  output: ToolResultOutput;
}

export type PromptMessage =
  | { role: 'system'; content: string; [key: string]: unknown }
  | { role: 'user' | 'assistant' | 'tool'; content: PromptPart[]; [key: string]: unknown };

export type ProviderOptionsRecord = Record<string, Record<string, unknown> | undefined>;

export interface FunctionToolLike {
  type: string;
  name: string;
  providerOptions?: ProviderOptionsRecord;
  [key: string]: unknown;
}

export interface CallOptionsLike {
  prompt: PromptMessage[];
  tools?: FunctionToolLike[];
  providerOptions?: ProviderOptionsRecord;
  [key: string]: unknown;
}

export interface ModelLike {
  readonly provider: string;
  readonly modelId: string;
}

// ---------- results (LanguageModelV3GenerateResult / V4) ----------

export interface UsageLike {
  inputTokens: { total: number | undefined; cacheRead?: number | undefined; [key: string]: unknown };
  outputTokens: { total: number | undefined; [key: string]: unknown };
  [key: string]: unknown;
}

export interface FinishReasonLike {
  unified: string;
  raw: string | undefined;
}

export interface ContentPart {
  type: string;
  [key: string]: unknown;
}

export interface ToolCallPart extends ContentPart {
  type: 'tool-call';
  toolCallId: string;
  toolName: string;
  /** JSON text at the provider level (a parsed object only in prompts and `ai` results). */
  input: string;
  providerExecuted?: boolean;
}

export interface GenerateResultLike {
  content: ContentPart[];
  finishReason: FinishReasonLike;
  usage: UsageLike;
  [key: string]: unknown;
}

export interface StreamPart {
  type: string;
  [key: string]: unknown;
}

export interface StreamResultLike {
  stream: ReadableStream<StreamPart>;
  [key: string]: unknown;
}

export const isTextPart = (part: PromptPart): part is TextPromptPart => part.type === 'text' && typeof part.text === 'string';

export const isToolResultPart = (part: PromptPart): part is ToolResultPromptPart =>
  part.type === 'tool-result' && typeof part.toolCallId === 'string' && typeof part.output === 'object' && part.output !== null;

export const isToolCallPart = (part: ContentPart): part is ToolCallPart =>
  part.type === 'tool-call' && typeof part.toolCallId === 'string' && typeof part.toolName === 'string';
