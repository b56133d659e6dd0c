import { randomUUID } from 'node:crypto';
import { type Decision, type Guard, PalisadeError, type Scope } from '@palisade/core';
import type {
  CallOptionsLike,
  DecisionHook,
  DecisionInfo,
  FunctionToolLike,
  OnDecision,
  OnError,
  PalisadeCallOptions,
  PalisadeMode,
  ProviderOptionsRecord,
} from './types.js';

/** Everything the seams of one model call share. */
export interface CallContext {
  guard: Guard;
  mode: PalisadeMode;
  scope: Scope;
  runId?: string;
  modelCallId: string;
  modelId: string;
  /** Tools `guardTools` wraps in this call: it enforces their tool-call decisions at execution. */
  guardedTools: ReadonlySet<string>;
  report(decision: Decision, info: Omit<DecisionInfo, 'mode' | 'enforced' | 'runId' | 'modelCallId' | 'modelId'>): void;
  reportError(error: unknown, hook: DecisionHook): void;
}

/** The key under `providerOptions` (per call) and under a tool's `providerOptions` (the guardTools mark). */
export const providerKey = 'palisade';

const scopeFields = ['tenantId', 'appId', 'userId', 'sessionId', 'policyId'] as const;

/** Checks and copies a scope given in options or per call; throws INVALID_OPTIONS naming the field. */
export function readScope(value: unknown, where: string): Scope {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: `${where} must be an object with tenantId, appId, userId, sessionId, policyId.`,
    });
  }
  const scope: Scope = {};
  for (const field of scopeFields) {
    const item = (value as Record<string, unknown>)[field];
    if (item === undefined || item === null) continue;
    if (typeof item !== 'string') {
      throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `${where}.${field} must be a string; got ${typeof item}.` });
    }
    scope[field] = item;
  }
  return scope;
}

export interface StartCallOptions {
  guard: Guard;
  mode: PalisadeMode;
  scope: Scope;
  modelId: string;
  onDecision: OnDecision | undefined;
  onError: OnError | undefined;
}

/**
 * Reads the per-call options (`providerOptions.palisade`: scope, runId) and the guardTools marks
 * on the tools, and returns the call's context with the params to send on. The `palisade` keys
 * are removed: a tenant or user id is not the provider's business.
 */
export function startCall(params: CallOptionsLike, options: StartCallOptions): { context: CallContext; params: CallOptionsLike } {
  const perCall = params.providerOptions?.[providerKey] as PalisadeCallOptions | undefined;
  const scope: Scope = { ...options.scope, ...readScope(perCall?.scope, 'providerOptions.palisade.scope') };
  const runId = perCall?.runId;
  if (runId !== undefined && typeof runId !== 'string') {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `providerOptions.palisade.runId must be a string; got ${typeof runId}.` });
  }
  const guardedTools = new Set<string>();
  let tools = params.tools;
  if (tools?.some((tool) => tool.providerOptions?.[providerKey] !== undefined)) {
    tools = tools.map((tool): FunctionToolLike => {
      const mark = tool.providerOptions?.[providerKey];
      if (mark === undefined) return tool;
      if (mark.guarded === true) guardedTools.add(tool.name);
      return { ...tool, providerOptions: without(tool.providerOptions, providerKey) };
    });
  }
  const next: CallOptionsLike = { ...params };
  if (tools !== params.tools) next.tools = tools;
  if (perCall !== undefined) next.providerOptions = without(params.providerOptions, providerKey);

  const modelCallId = randomUUID();
  const warned = new Set<string>();
  const reportError = (error: unknown, hook: DecisionHook) => {
    if (options.onError) {
      try {
        options.onError(error, { hook, modelId: options.modelId });
      } catch {
        // An error hook that throws is ignored: it cannot change a decision either.
      }
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const key = `${hook}:${message}`;
    if (warned.has(key)) return;
    warned.add(key);
    globalThis.process?.emitWarning?.(`Palisade (${hook}, model ${options.modelId}): ${message}`, { code: 'PALISADE_VERCEL_AI' });
  };
  const context: CallContext = {
    guard: options.guard,
    mode: options.mode,
    scope,
    ...(runId !== undefined ? { runId } : {}),
    modelCallId,
    modelId: options.modelId,
    guardedTools,
    reportError,
    report(decision, info) {
      if (!options.onDecision) return;
      try {
        options.onDecision(decision, {
          ...info,
          mode: options.mode,
          enforced: options.mode === 'enforce',
          ...(runId !== undefined ? { runId } : {}),
          modelCallId,
          modelId: options.modelId,
        });
      } catch (error) {
        // INVARIANT: observers never change or delay a decision.
        reportError(error, info.hook);
      }
    },
  };
  return { context, params: next };
}

function without(record: ProviderOptionsRecord | undefined, key: string): ProviderOptionsRecord | undefined {
  if (record === undefined) return undefined;
  const { [key]: _removed, ...rest } = record;
  return rest;
}
