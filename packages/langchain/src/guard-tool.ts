import { randomUUID } from 'node:crypto';
import { ToolMessage } from '@langchain/core/messages';
import { patchConfig } from '@langchain/core/runnables';
import { DynamicStructuredTool, type StructuredToolInterface, type ToolRunnableConfig } from '@langchain/core/tools';
import type { Guard, GuardEvent } from '@palisade/core';
import { checkAdapterOptions, type PalisadeAdapterOptions, resolveScope } from './adapter-options.js';
import { approvalQueue, type DecisionContext, evaluateEvent, refusalError } from './evaluate-event.js';
import { jsonOrText } from './message-text.js';

/** What the scope function of `guardTool` receives. */
export interface GuardToolScopeInput {
  /** The config the tool was invoked with (`configurable`, `metadata`, `context`, …). */
  config: ToolRunnableConfig | undefined;
  toolCallId: string | undefined;
}

export type GuardToolOptions = PalisadeAdapterOptions<GuardToolScopeInput>;

type ToolFields = { responseFormat?: unknown; returnDirect?: boolean; metadata?: Record<string, unknown>; tags?: string[] };

/**
 * Wraps a LangChain tool so that every call is checked before the tool runs and every result
 * before the caller gets it, for code that calls tools directly (`tool.invoke(args)`) or hands
 * them to an agent built without Palisade middleware. A refused call throws
 * `DecisionBlockedError` (code `DECISION_BLOCKED`) and the tool never runs; an escalated call
 * waits for the guard's approval queue; a redacting decision runs the tool with the redacted
 * arguments, or returns the redacted result.
 *
 * The wrapper has the tool's name, description, schema and response format. Artifacts
 * (`content_and_artifact`) are passed on unchecked: they are not sent to the model.
 *
 * @example
 * const sendEmail = guardTool(emailTool, guard, { scope: { tenantId: 'acme' } });
 * await sendEmail.invoke({ to: 'eve@partner.example', body: 'hi' }); // waits for approval
 */
export function guardTool(tool: StructuredToolInterface, guard: Guard, options: GuardToolOptions = {}): DynamicStructuredTool {
  checkAdapterOptions('guardTool', options as PalisadeAdapterOptions<never> & Record<string, unknown>);
  const mode = options.mode ?? 'enforce';
  const checks = new Set(options.boundaries ?? ['tool_call', 'tool_result']);
  const fields = tool as StructuredToolInterface & ToolFields;
  const contentAndArtifact = fields.responseFormat === 'content_and_artifact';

  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema as never,
    ...(fields.responseFormat !== undefined ? { responseFormat: fields.responseFormat as 'content' | 'content_and_artifact' } : {}),
    ...(fields.returnDirect !== undefined ? { returnDirect: fields.returnDirect } : {}),
    ...(fields.metadata !== undefined ? { metadata: fields.metadata } : {}),
    ...(fields.tags !== undefined ? { tags: fields.tags } : {}),
    func: async (input: unknown, runManager, config) => {
      const toolConfig = config as ToolRunnableConfig | undefined;
      const toolCallId = toolConfig?.toolCall?.id;
      const threadId = toolConfig?.configurable?.thread_id;
      const scope = resolveScope(options.scope, { config: toolConfig, toolCallId }, typeof threadId === 'string' ? threadId : undefined);
      const context: DecisionContext = { hook: 'guardTool', enforced: mode === 'enforce' };
      if (runManager?.runId !== undefined) context.runId = runManager.runId;
      if (toolCallId !== undefined) context.toolCallId = toolCallId;
      const settle = (event: GuardEvent, rewrite: 'text' | 'value') =>
        evaluateEvent(
          guard,
          { ...event, scope },
          {
            mode,
            rewrite,
            context,
            askApproval: approvalQueue(guard, scope, { timeoutMs: options.approvalTimeoutMs, signal: toolConfig?.signal }),
            onDecision: options.onDecision,
            onError: options.onError,
          },
        );

      let args = input;
      if (checks.has('tool_call')) {
        const verdict = await settle({ boundary: 'tool_call', tool: tool.name, args: input }, 'value');
        if (verdict.kind === 'refuse') throw refusalError(verdict);
        if (verdict.kind === 'rewrite') args = verdict.replacement;
      }
      // Invoked with a ToolCall, the tool answers with a ToolMessage: content and artifact apart.
      const call = {
        type: 'tool_call' as const,
        id: toolCallId ?? `palisade_${randomUUID()}`,
        name: tool.name,
        args: args as Record<string, unknown>,
      };
      const answer: unknown = await tool.invoke(call, patchConfig(toolConfig, { callbacks: runManager?.getChild() }));
      const message = ToolMessage.isInstance(answer) ? answer : undefined;
      let content: unknown = message ? message.content : answer;
      const artifact = message?.artifact;

      if (checks.has('tool_result')) {
        const value = typeof content === 'string' || Array.isArray(content) ? jsonOrText(content as string) : content;
        const event: GuardEvent =
          typeof value === 'string'
            ? { boundary: 'tool_result', tool: tool.name, result: value, text: value }
            : { boundary: 'tool_result', tool: tool.name, result: value };
        const verdict = await settle(event, typeof value === 'string' ? 'text' : 'value');
        if (verdict.kind === 'refuse') throw refusalError(verdict);
        if (verdict.kind === 'rewrite')
          content = typeof verdict.replacement === 'string' ? verdict.replacement : JSON.stringify(verdict.replacement);
      }
      return (contentAndArtifact ? [content, artifact] : content) as never;
    },
  });
}
