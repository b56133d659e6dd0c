import { canonicalJson, type Decision, type Guard, type Scope } from '@palisade/core';

/** What one seam decided about one tool call, for the next seam to reuse. */
export interface ToolCallRecord {
  decision: Decision;
  runId?: string;
  modelCallId?: string;
  /**
   * Reusable once: the allow an approved ticket was redeemed for lets one call through, and a
   * provider that repeats tool call ids must not get a second call through on it.
   */
  once?: boolean;
}

/**
 * Decisions about AI SDK tool calls, shared by the seams that see the same call: the middleware
 * (the model asked for it), the approval function and `execute` (the SDK runs it), and the next
 * prompt (its result comes back). One decision per call means one receipt and, for an
 * escalation, one approval ticket.
 *
 * INVARIANT: a record is reused only for the same tool call id and the same key (tool name,
 * arguments or result, and scope, as canonical JSON), under the policy version that made it and
 * for at most 15 minutes (the default approval timeout); a `once` record is reused once. Tool
 * call ids come from providers and may repeat: requiring the scope to match means a colliding id
 * can never carry one tenant's decision to another, and `once` means it can never stretch an
 * approval over a second call. Per guard, in memory, bounded (oldest first out): a process that
 * did not see the earlier seam simply decides again.
 */
export interface CallRegistry {
  rememberCall(toolCallId: string, key: string | undefined, record: ToolCallRecord): void;
  findCall(toolCallId: string, key: string | undefined): ToolCallRecord | undefined;
  /** Drops what was decided about a call (its approval is settled: a repeat decides again). */
  forgetCall(toolCallId: string): void;
  /** The run of a tool call the middleware saw (ids only; nothing is reused from it). */
  runOf(toolCallId: string): { runId?: string; modelCallId?: string } | undefined;
  rememberResult(toolCallId: string, key: string | undefined): void;
  hasResult(toolCallId: string, key: string | undefined): boolean;
}

/** The key of a tool call or a tool result: undefined for values canonical JSON cannot carry (then nothing is reused). */
export function callKey(tool: string, value: unknown, scope: Scope): string | undefined {
  try {
    return canonicalJson([tool, value ?? null, scope]);
  } catch {
    return undefined;
  }
}

const capacity = 4096;
const maxAgeMs = 15 * 60_000;
const registries = new WeakMap<Guard, CallRegistry>();

/** The registry of a guard (created on first use). */
export function callRegistryFor(guard: Guard): CallRegistry {
  let registry = registries.get(guard);
  if (!registry) {
    registry = createCallRegistry(guard);
    registries.set(guard, registry);
  }
  return registry;
}

function createCallRegistry(guard: Guard): CallRegistry {
  const calls = new Map<string, ToolCallRecord & { key: string; at: number }>();
  const results = new Map<string, string>();
  const bounded = <T>(map: Map<string, T>, id: string, value: T) => {
    map.delete(id);
    map.set(id, value);
    if (map.size > capacity) map.delete(map.keys().next().value as string);
  };
  return {
    rememberCall(toolCallId, key, record) {
      if (key !== undefined) bounded(calls, toolCallId, { ...record, key, at: Date.now() });
    },
    findCall(toolCallId, key) {
      const found = calls.get(toolCallId);
      if (!found || key === undefined || found.key !== key) return undefined;
      if (found.decision.policyVersion !== guard.policyVersion || Date.now() - found.at > maxAgeMs) return undefined;
      if (found.once) calls.delete(toolCallId);
      return found;
    },
    forgetCall(toolCallId) {
      calls.delete(toolCallId);
    },
    runOf(toolCallId) {
      const found = calls.get(toolCallId);
      if (!found) return undefined;
      return {
        ...(found.runId !== undefined ? { runId: found.runId } : {}),
        ...(found.modelCallId !== undefined ? { modelCallId: found.modelCallId } : {}),
      };
    },
    rememberResult(toolCallId, key) {
      if (key !== undefined) bounded(results, toolCallId, key);
    },
    hasResult(toolCallId, key) {
      return key !== undefined && results.get(toolCallId) === key;
    },
  };
}
