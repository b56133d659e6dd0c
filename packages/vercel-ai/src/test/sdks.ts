// Test support (not built): both AI SDK majors behind one small surface, so every behaviour is
// specified once and run against ai@6 (LanguageModelV3) and ai@7 (LanguageModelV4).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, createMemoryStore, type Decision, type Guard } from '@palisade/core';
import * as ai6 from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import * as ai7 from 'ai-v7';
import { MockLanguageModelV4 } from 'ai-v7/test';
import { afterEach } from 'vitest';
import type { DecisionInfo } from '../types.js';

// biome-ignore lint/suspicious/noExplicitAny: the two SDKs' option and result types differ; tests read the shared fields.
export type Loose = any;

export interface MockModel {
  readonly modelId: string;
  doGenerateCalls: { prompt: Loose[]; tools?: Loose[]; providerOptions?: Loose }[];
  doStreamCalls: { prompt: Loose[]; tools?: Loose[]; providerOptions?: Loose }[];
}

export interface Sdk {
  name: 'ai@6' | 'ai@7';
  major: 6 | 7;
  generateText: (options: Loose) => Promise<Loose>;
  streamText: (options: Loose) => Loose;
  wrapLanguageModel: (options: { model: Loose; middleware: Loose }) => Loose;
  tool: (definition: Loose) => Loose;
  jsonSchema: (schema: Loose) => Loose;
  stepCountIs: (count: number) => Loose;
  simulateReadableStream: (options: {
    chunks: Loose[];
    chunkDelayInMs?: number | null;
    initialDelayInMs?: number | null;
  }) => ReadableStream<Loose>;
  /** A mock model of the SDK's own spec version; arrays script one result per call. */
  mockModel: (options: { doGenerate?: Loose; doStream?: Loose; modelId?: string }) => MockModel & Loose;
  /** The messages a finished run adds to the conversation. */
  responseMessages: (result: Loose) => Promise<Loose[]>;
}

export const sdks: Sdk[] = [
  {
    name: 'ai@6',
    major: 6,
    generateText: ai6.generateText as Loose,
    streamText: ai6.streamText as Loose,
    wrapLanguageModel: ai6.wrapLanguageModel as Loose,
    tool: ai6.tool as Loose,
    jsonSchema: ai6.jsonSchema as Loose,
    stepCountIs: ai6.stepCountIs,
    simulateReadableStream: ai6.simulateReadableStream as Loose,
    mockModel: (options) => new MockLanguageModelV3(options) as Loose,
    responseMessages: async (result) => (await result.response).messages,
  },
  {
    name: 'ai@7',
    major: 7,
    generateText: ai7.generateText as Loose,
    streamText: ai7.streamText as Loose,
    wrapLanguageModel: ai7.wrapLanguageModel as Loose,
    tool: ai7.tool as Loose,
    jsonSchema: ai7.jsonSchema as Loose,
    stepCountIs: ai7.stepCountIs,
    simulateReadableStream: ai7.simulateReadableStream as Loose,
    mockModel: (options) => new MockLanguageModelV4(options) as Loose,
    responseMessages: async (result) => await result.responseMessages,
  },
];

export const usage = (input = 10, output = 5) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

export const stop = { unified: 'stop', raw: 'stop' } as const;
export const toolCalls = { unified: 'tool-calls', raw: 'tool_calls' } as const;

/** A generate result holding one text part. */
export const textResult = (text: string) => ({ content: [{ type: 'text', text }], finishReason: stop, usage: usage(), warnings: [] });

/** A generate result in which the model asks for one tool call. */
export const toolCallResult = (toolName: string, input: unknown, toolCallId = 'call-1') => ({
  content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
  finishReason: toolCalls,
  usage: usage(),
  warnings: [],
});

/** Provider stream parts of one text block made of `deltas`, then `finish`. */
export const textStream = (deltas: readonly string[], id = 't1') => [
  { type: 'stream-start', warnings: [] },
  { type: 'text-start', id },
  ...deltas.map((delta) => ({ type: 'text-delta', id, delta })),
  { type: 'text-end', id },
  { type: 'finish', finishReason: stop, usage: usage() },
];

/** Provider stream parts of one streamed tool call. */
export const toolCallStream = (toolName: string, input: unknown, toolCallId = 'call-1') => {
  const json = JSON.stringify(input);
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'tool-input-start', id: toolCallId, toolName },
    { type: 'tool-input-delta', id: toolCallId, delta: json.slice(0, 4) },
    { type: 'tool-input-delta', id: toolCallId, delta: json.slice(4) },
    { type: 'tool-input-end', id: toolCallId },
    { type: 'tool-call', toolCallId, toolName, input: json },
    { type: 'finish', finishReason: toolCalls, usage: usage() },
  ];
};

/** A ReadableStream over `chunks` that records how many were pulled (to see what a stop cancelled). */
export function countingStream<T>(chunks: readonly T[]): { stream: ReadableStream<T>; pulled: () => number } {
  let index = 0;
  const stream = new ReadableStream<T>(
    {
      pull(controller) {
        if (index < chunks.length) controller.enqueue(chunks[index++] as T);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => index };
}

/** Reads every part of a streamText run (ai@6 `fullStream`, ai@7 `stream`; both have `fullStream`). */
export async function readAll(result: Loose): Promise<Loose[]> {
  const parts: Loose[] = [];
  for await (const part of result.fullStream) parts.push(part);
  return parts;
}

export const streamedText = (parts: readonly Loose[]) =>
  parts
    .filter((part) => part.type === 'text-delta')
    .map((part) => part.text ?? part.delta)
    .join('');

/** A tool that counts its executions: a blocked or pending call must leave `executions` at 0. */
export function instrumentedTool<T>(sdk: Sdk, run: (input: Loose) => T, description = 'test tool') {
  const calls: Loose[] = [];
  const definition = sdk.tool({
    description,
    inputSchema: sdk.jsonSchema({ type: 'object', additionalProperties: true }),
    execute: async (input: Loose) => {
      calls.push(input);
      return run(input);
    },
  });
  return {
    definition,
    calls,
    get executions() {
      return calls.length;
    },
  };
}

/** The configuration most tests share: a platform shell ban, redaction, approvals, and ($1 a token) a $15 daily budget for `thrifty`. */
export const testConfig = `
platform:
  rules:
    - { name: no shell, priority: 1000, action: block, reason: Shell execution is disabled, match: { boundary: tool_call, tool: shell } }
defaults:
  policy: guarded
policies:
  guarded:
    extends: balanced
    rules:
      - { name: redact pii in prompts, priority: 50, action: redact, match: { boundary: input, family: PII } }
      - { name: redact secrets in answers, priority: 50, action: redact, match: { boundary: output, family: SEC } }
      - { name: redact pii in tool arguments, priority: 50, action: redact, match: { boundary: tool_call, family: PII } }
      - { name: redact pii in tool results, priority: 50, action: redact, match: { boundary: tool_result, family: PII } }
      - name: external email needs approval
        priority: 90
        action: escalate
        reason: External emails need approval
        match: { boundary: tool_call, tool: email.send, when: { args.to: { not: { ends_with: "@acme.com" } } } }
budgets:
  prices:
    mock-model-id: { input: 1000000, output: 1000000 }
tenants:
  acme:
    default_policy: guarded
  globex:
    default_policy: guarded
  thrifty:
    default_policy: guarded
    budgets:
      - { period: day, limit_usd: 15, action: hard_block }
`;

/** A guard over `config` with in-memory state (tickets, budgets; no audit files). */
export function memoryGuard(config: string = testConfig, extra: { now?: () => number } = {}): Guard {
  return createGuard({ config, state: { store: createMemoryStore(), audit: false }, ...extra });
}

/** A guard whose state is a real SQLite file (and audit log) in a temporary folder. */
export function sqliteGuard(config: string = testConfig): { guard: Guard; cleanup: () => Promise<void> } {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-vercel-ai-'));
  const guard = createGuard({ config, state: { directory } });
  return {
    guard,
    cleanup: async () => {
      await guard.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Guards with real SQLite state, each closed and its folder removed after the test that made it.
 * Call once in a suite (it registers the `afterEach`), then `withSqlite()` in a test.
 */
export function sqliteGuards(config: string = testConfig): () => Guard {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  return () => {
    const { guard, cleanup } = sqliteGuard(config);
    cleanups.push(cleanup);
    return guard;
  };
}

/** A guard without state: escalations have no ticket, budgets are not enforced. */
export function statelessGuard(config: string = testConfig): Guard {
  return createGuard({ config });
}

/** Collects the decisions an adapter reports through `onDecision`, with their context. */
export function recorder() {
  const seen: { decision: Decision; info: DecisionInfo }[] = [];
  return { seen, onDecision: (decision: Decision, info: DecisionInfo) => seen.push({ decision, info }) };
}
