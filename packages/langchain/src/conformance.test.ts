// The core conformance corpus, routed through LangChain, twice:
// - through a real createAgent run (fake model, instrumented tool) with palisadeMiddleware;
// - through a fake chat model or a tool invoked with PalisadeCallbackHandler.
// Every case's event crosses LangChain at its boundary, the decision is the one the adapter acted
// on, and the run must show that it acted on it: a refused prompt never reaches the model, a
// refused tool call never runs, a redaction is what the model or the caller sees (the callback
// handler cannot rewrite, so there a redaction is refused). All four boundaries are expressible
// through both; no case goes to the guard directly.
import { AIMessage, HumanMessage, type ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createGuard, createScanner, type Decision, DecisionBlockedError, type Guard, type GuardEvent, type Scanner } from '@palisade/core';
import { type ConformanceCase, type ConformanceEvaluate, loadConformanceCases, runConformanceCase } from '@palisade/core/test';
import { createAgent } from 'langchain';
import { describe, expect, it } from 'vitest';
import { PalisadeCallbackHandler } from './palisade-callback-handler.js';
import { palisadeMiddleware } from './palisade-middleware.js';
import { instrumentedTool, muteRefusalLogs } from './test/fixtures.js';

muteRefusalLogs();

const cases = loadConformanceCases();
let sharedScanner: Scanner | undefined;
const guards = new WeakMap<object, Map<string, Guard>>();

function guardFor(config: Record<string, unknown>, now: number | undefined): Guard {
  let byClock = guards.get(config);
  if (!byClock) {
    byClock = new Map();
    guards.set(config, byClock);
  }
  const clock = now === undefined ? 'real' : String(now);
  let guard = byClock.get(clock);
  if (!guard) {
    if (config.scanner === undefined) sharedScanner ??= createScanner();
    guard = createGuard({
      config,
      state: false,
      ...(now !== undefined ? { now: () => now } : {}),
      ...(config.scanner === undefined && sharedScanner ? { scanner: sharedScanner } : {}),
    });
    byClock.set(clock, guard);
  }
  return guard;
}

/** What the run showed: did the content pass, pass rewritten, or not at all? */
type Observed = { outcome: 'passed' | 'rewritten' | 'refused'; seen?: unknown };

const expectedOutcome = (decision: Decision): Observed['outcome'] =>
  decision.action === 'block' || decision.action === 'escalate' ? 'refused' : decision.action === 'redact' ? 'rewritten' : 'passed';

/**
 * The case's guard, giving the case's detections to the event at the case's boundary: the corpus
 * tests policy, not rule packs (other events of a run, if any, are scanned).
 */
function routedGuard(config: Record<string, unknown>, event: GuardEvent, now: number | undefined): Guard {
  const guard = guardFor(config, now);
  return Object.assign(Object.create(guard) as Guard, {
    evaluate: (seen: GuardEvent) =>
      guard.evaluate(seen.boundary === event.boundary && event.detections ? { ...seen, detections: event.detections } : seen),
  });
}

/** Runs the case's event through an agent and returns the decision palisadeMiddleware acted on. */
const throughAgent: ConformanceEvaluate = async ({ config, event, now }) => {
  const routed = routedGuard(config, event, now);
  const decisions: Decision[] = [];
  const middleware = palisadeMiddleware(routed, {
    scope: event.scope ?? {},
    boundaries: [event.boundary],
    onDecision: (decision) => {
      decisions.push(decision);
    },
  });
  const observed = await run(event, middleware);
  const decision = decisions[0];
  if (!decision) throw new Error(`palisadeMiddleware made no ${event.boundary} decision`);
  const want = expectedOutcome(decision);
  if (observed.outcome !== want)
    throw new Error(`the run shows "${observed.outcome}" for a ${decision.action} decision (expected "${want}")`);
  if (want === 'rewritten') {
    const replacement = event.boundary === 'tool_call' ? decision.redactedArgs : (decision.redactedText ?? decision.redactedArgs);
    expect(observed.seen).toEqual(replacement);
  }
  return decision;
};

async function run(event: GuardEvent, middleware: ReturnType<typeof palisadeMiddleware>): Promise<Observed> {
  switch (event.boundary) {
    case 'input': {
      const model = fakeModel().respond(new AIMessage('ok'));
      const agent = createAgent({ model, tools: [], middleware: [middleware] });
      const refused = await settles(agent.invoke({ messages: [new HumanMessage(event.text ?? '')] }));
      if (refused) return model.callCount === 0 ? { outcome: 'refused' } : { outcome: 'passed' };
      const seen = String(model.calls[0]?.messages.at(-1)?.content);
      return seen === event.text ? { outcome: 'passed' } : { outcome: 'rewritten', seen };
    }
    case 'output': {
      const agent = createAgent({ model: fakeModel().respond(new AIMessage(event.text ?? '')), tools: [], middleware: [middleware] });
      let reply: unknown;
      const refused = await settles(
        agent.invoke({ messages: [new HumanMessage('hi')] }).then((result) => (reply = result.messages.at(-1)?.content)),
      );
      if (refused) return { outcome: 'refused' };
      return reply === event.text ? { outcome: 'passed' } : { outcome: 'rewritten', seen: reply };
    }
    case 'tool_call': {
      const target = instrumentedTool(event.tool ?? 'tool');
      const model = fakeModel()
        .respondWithTools([{ name: target.tool.name, args: event.args as Record<string, unknown>, id: 'call_case' }])
        .respond(new AIMessage('done'));
      const result = await createAgent({ model, tools: [target.tool], middleware: [middleware] }).invoke({
        messages: [new HumanMessage('go')],
      });
      const message = toolMessage(result.messages);
      if (target.calls.length === 0) return message?.status === 'error' ? { outcome: 'refused' } : { outcome: 'passed' };
      if (target.calls.length > 1) throw new Error('the tool ran more than once');
      return JSON.stringify(target.calls[0]) === JSON.stringify(event.args)
        ? { outcome: 'passed' }
        : { outcome: 'rewritten', seen: target.calls[0] };
    }
    case 'tool_result': {
      const target = instrumentedTool(event.tool ?? 'tool', event.result);
      const model = fakeModel()
        .respondWithTools([{ name: target.tool.name, args: {}, id: 'call_case' }])
        .respond(new AIMessage('done'));
      const result = await createAgent({ model, tools: [target.tool], middleware: [middleware] }).invoke({
        messages: [new HumanMessage('go')],
      });
      const message = toolMessage(result.messages);
      if (message?.status === 'error') return { outcome: 'refused' };
      const original = typeof event.result === 'string' ? event.result : JSON.stringify(event.result);
      const content = String(message?.content);
      if (content === original) return { outcome: 'passed' };
      return { outcome: 'rewritten', seen: typeof event.result === 'string' ? content : JSON.parse(content) };
    }
  }
}

/** Runs the case's event through a model or tool call and returns the decision PalisadeCallbackHandler acted on. */
const throughCallbacks: ConformanceEvaluate = async ({ config, event, now }) => {
  const decisions: Decision[] = [];
  const handler = new PalisadeCallbackHandler(routedGuard(config, event, now), {
    scope: event.scope ?? {},
    boundaries: [event.boundary],
    onDecision: (decision) => {
      decisions.push(decision);
    },
  });
  const callbacks = [handler];
  let passed: boolean;
  switch (event.boundary) {
    case 'input': {
      const model = fakeModel().respond(new AIMessage('ok'));
      const refused = await settles(model.invoke([new HumanMessage(event.text ?? '')], { callbacks }));
      if (refused !== (model.callCount === 0)) throw new Error('a refused prompt reached the model');
      passed = !refused;
      break;
    }
    case 'output':
      passed = !(await settles(
        fakeModel()
          .respond(new AIMessage(event.text ?? ''))
          .invoke('hi', { callbacks }),
      ));
      break;
    case 'tool_call': {
      const target = instrumentedTool(event.tool ?? 'tool');
      const refused = await settles(target.tool.invoke(event.args as Record<string, unknown>, { callbacks }));
      if (refused !== (target.calls.length === 0)) throw new Error('a refused tool call ran');
      passed = !refused;
      break;
    }
    case 'tool_result':
      passed = !(await settles(instrumentedTool(event.tool ?? 'tool', event.result).tool.invoke({}, { callbacks })));
      break;
  }
  const decision = decisions[0];
  if (!decision) throw new Error(`PalisadeCallbackHandler made no ${event.boundary} decision`);
  // A callback cannot rewrite: a redaction is refused (onRedact: block).
  const refusedAction = decision.action === 'block' || decision.action === 'escalate' || decision.action === 'redact';
  if (passed === refusedAction) throw new Error(`the call ${passed ? 'passed' : 'was refused'} on a ${decision.action} decision`);
  return decision;
};

/** True when the promise rejects with a DecisionBlockedError (any other error fails the case). */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (error) {
    if (DecisionBlockedError.isInstance(error)) return true;
    throw error;
  }
}

const toolMessage = (messages: unknown[]) => messages.find((message): message is ToolMessage => (message as ToolMessage).type === 'tool');

const byFile = new Map<string, ConformanceCase[]>();
for (const testCase of cases) byFile.set(testCase.file, [...(byFile.get(testCase.file) ?? []), testCase]);

for (const [title, evaluate] of [
  ['createAgent with palisadeMiddleware', throughAgent],
  ['PalisadeCallbackHandler', throughCallbacks],
] as const) {
  describe(`the conformance corpus through ${title}`, () => {
    for (const [file, fileCases] of byFile) {
      it(`${file} (${fileCases.length} cases)`, async () => {
        const failures: string[] = [];
        for (const testCase of fileCases) {
          const result = await runConformanceCase(testCase, evaluate);
          if (!result.ok) failures.push(`${file}:${testCase.line} "${testCase.name}"\n    ${result.mismatches.join('\n    ')}`);
        }
        expect(failures).toEqual([]);
      });
    }
  });
}

it('runs a corpus of at least 150 cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(150);
});
