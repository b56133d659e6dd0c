import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';

/** LangChain ids of the run the current code executes in. */
export interface LangChainRunIds {
  /** The current run (inside a LangGraph node: the node's run, parent of its model or tool runs). */
  runId?: string;
  /** LangGraph `configurable.thread_id`. */
  threadId?: string;
}

type ConfigLike = { callbacks?: unknown; configurable?: { thread_id?: unknown } } | undefined;

/**
 * Reads the run id and thread id of the runnable config LangChain keeps in async local storage.
 * Middleware hooks get no run id in their `runtime`; this is where LangGraph's own `getConfig()`
 * reads it from.
 *
 * @example
 * const { runId, threadId } = currentRunIds(); // inside a middleware hook
 */
export function currentRunIds(): LangChainRunIds {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as ConfigLike;
  const ids: LangChainRunIds = {};
  const callbacks = config?.callbacks as { getParentRunId?: () => string | undefined } | undefined;
  const runId = typeof callbacks?.getParentRunId === 'function' ? callbacks.getParentRunId() : undefined;
  if (runId !== undefined) ids.runId = runId;
  const threadId = config?.configurable?.thread_id;
  if (typeof threadId === 'string' || typeof threadId === 'number') ids.threadId = String(threadId);
  return ids;
}
