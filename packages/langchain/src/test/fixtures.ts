// Builders for the package's tests (excluded from the build).
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tool } from '@langchain/core/tools';
import { createGuard, createMemoryStore, type Decision, type Guard } from '@palisade/core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { z } from 'zod';
import type { DecisionContext } from '../evaluate-event.js';

/**
 * The policy the tests run under: balanced, plus PII redaction in prompts and replies, secret
 * redaction in replies, no shell ever, and approval for email outside acme.com.
 */
export const testConfig = {
  platform: {
    rules: [
      {
        name: 'no shell',
        priority: 1000,
        action: 'block',
        reason: 'Shell execution is disabled',
        match: { boundary: 'tool_call', tool: 'shell' },
      },
    ],
  },
  policies: {
    agent: {
      extends: 'balanced',
      rules: [
        {
          name: 'redact pii',
          priority: 100,
          action: 'redact',
          reason: 'Personal data is masked',
          match: { boundary: ['input', 'output', 'tool_result'], family: 'PII' },
        },
        {
          name: 'redact secrets in replies',
          priority: 100,
          action: 'redact',
          reason: 'Secrets are masked',
          match: { boundary: 'output', family: 'SEC' },
        },
        {
          name: 'external email needs approval',
          priority: 90,
          action: 'escalate',
          reason: 'External email needs approval',
          match: { boundary: 'tool_call', tool: 'email.send', when: { 'args.to': { not: { ends_with: '@acme.com' } } } },
        },
      ],
    },
  },
  tenants: { acme: { default_policy: 'agent' } },
};

export const acme = { tenantId: 'acme' } as const;

/** A guard with the test policy and state in memory (approvals and budgets work, no files). */
export function memoryGuard(config: Record<string, unknown> = testConfig): Guard {
  return createGuard({ config, state: { store: createMemoryStore(), audit: false } });
}

/** A guard without state: escalations get no ticket, budgets are off. */
export function statelessGuard(config: Record<string, unknown> = testConfig): Guard {
  return createGuard({ config, state: false });
}

/** A fresh temporary folder. */
export function tempDirectory(prefix = 'palisade-langchain-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A guard with real SQLite state and audit under `directory`. */
export function sqliteGuard(directory: string, config: Record<string, unknown> = testConfig): Guard {
  return createGuard({ config, state: { directory } });
}

/**
 * A tool that records every execution. A blocked or still-pending call must leave `calls`
 * empty: a guard that answers after the tool ran protects nothing.
 */
export function instrumentedTool<T = unknown>(name: string, result: T | ((args: Record<string, unknown>) => T) = 'done' as T) {
  const calls: Record<string, unknown>[] = [];
  const instance = tool(
    async (args: Record<string, unknown>) => {
      calls.push(args);
      return (typeof result === 'function' ? (result as (args: Record<string, unknown>) => T)(args) : result) as never;
    },
    { name, description: `The ${name} tool`, schema: z.record(z.string(), z.unknown()) },
  );
  return { tool: instance, calls };
}

/** Collects decisions with their LangChain context. */
export function decisionLog() {
  const entries: { decision: Decision; context: DecisionContext }[] = [];
  return {
    entries,
    onDecision: (decision: Decision, context: DecisionContext) => {
      entries.push({ decision, context });
    },
    actions: () => entries.map(({ decision }) => `${decision.boundary}:${decision.action}`),
  };
}

type LangGraph = {
  MemorySaver: new () => unknown;
  Command: new (params: { resume: unknown }) => unknown;
};

let langGraph: Promise<LangGraph> | undefined;

/**
 * LangGraph as `langchain` itself loads it (its ESM entry, the same module instance): for
 * `MemorySaver` and `Command` in interrupt tests. @langchain/langgraph is a dependency of
 * langchain, not of this package.
 */
export function loadLangGraph(): Promise<LangGraph> {
  langGraph ??= (async () => {
    const require = createRequire(import.meta.url);
    const fromLangchain = createRequire(require.resolve('langchain'));
    const manifest = fromLangchain.resolve('@langchain/langgraph/package.json');
    const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports['.'].import.default as string;
    return (await import(pathToFileURL(join(dirname(manifest), exports)).href)) as LangGraph;
  })();
  return langGraph;
}

/**
 * LangChain prints every error a raiseError handler throws ("Error in handler
 * PalisadeCallbackHandler, …") with console.error before rethrowing it. Refusals are what these
 * tests provoke, so those lines are left out of the test output (other output is kept).
 */
export function muteRefusalLogs(): void {
  const original = console.error;
  beforeAll(() => {
    console.error = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('Error in handler PalisadeCallbackHandler')) return;
      original(...args);
    };
  });
  afterAll(() => {
    console.error = original;
  });
}

/** Waits until the guard's store holds a pending ticket for the tenant, and returns it. */
export async function pendingTicket(guard: Guard, tenantId = 'acme') {
  for (let attempt = 0; attempt < 500; attempt++) {
    const [ticket] = await guard.listApprovals({ tenantId, status: 'pending' });
    if (ticket) return ticket;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no pending approval ticket appeared');
}

/**
 * Closes, after each test, the guards a test file opens: `const track = trackGuards();` at the top
 * of the file, then `track(memoryGuard())` in a test.
 */
export function trackGuards(): <T extends Guard>(guard: T) => T {
  const guards: Guard[] = [];
  afterEach(async () => {
    for (const guard of guards.splice(0)) await guard.close();
  });
  return (guard) => {
    guards.push(guard);
    return guard;
  };
}

/** The error `promise` rejects with; the test fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
