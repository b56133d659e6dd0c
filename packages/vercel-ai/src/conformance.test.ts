import { canonicalJson, createGuard, createScanner, type Decision, type Guard, type GuardEvent, type Scanner } from '@palisade/core';
import { type ConformanceCase, type ConformanceEvaluate, loadConformanceCases, runConformanceCase } from '@palisade/core/test';
import { describe, expect, it } from 'vitest';
import { guardTools } from './guard-tools.js';
import { palisadeMiddleware } from './palisade-middleware.js';
import { type Loose, readAll, type Sdk, sdks, textResult, textStream, toolCallResult } from './test/sdks.js';

// The core's conformance corpus, run through the AI SDK: each event is made to happen in a real
// generateText / streamText run (mock models of each SDK major), the adapter decides it at its
// own seam in shadow mode (so a blocked prompt still lets the run reach the seam under test), and
// the decision it reports through onDecision is compared with the case. Every event of the corpus
// can be expressed through the framework; none is routed to the guard directly.

const cases = loadConformanceCases();
const sharedScanner = createScanner();

/**
 * The corpus fixes detections so that a case tests policy, not rule packs. A guard's scanner is
 * fixed when it is built, so each guard scans through this switch: while a case with given
 * detections runs, the event's own payload (whatever seam hands it over) yields them; anything
 * else the run produces is scanned for real. Cases run one after another, so one switch per
 * guard is enough.
 */
interface ScannerSwitch extends Scanner {
  event: GuardEvent | undefined;
}

function scannerSwitch(inner: Scanner): ScannerSwitch {
  let key: string | undefined;
  let current: GuardEvent | undefined;
  return {
    rules: inner.rules,
    ruleCounts: inner.ruleCounts,
    get event() {
      return current;
    },
    set event(event: GuardEvent | undefined) {
      current = event;
      if (!event?.detections) {
        key = undefined;
        return;
      }
      const payload =
        event.boundary === 'tool_call' ? event.args : event.boundary === 'tool_result' ? (event.result ?? event.text) : event.text;
      key = canonicalJson(payload ?? null);
    },
    scan(input: unknown) {
      if (key !== undefined && canonicalJson(input ?? null) === key) {
        return { detections: current?.detections ?? [], truncated: false, scannedLength: 0 };
      }
      return inner.scan(input);
    },
  };
}

// Guards per configuration object (cases that share a YAML anchor share one) and clock, as core's
// own runner keeps them: building one is the costly part of a case.
const guards = new WeakMap<object, Map<string, { guard: Guard; scanner: ScannerSwitch }>>();

function guardFor(config: Record<string, unknown>, event: GuardEvent, now: number | undefined): Guard {
  let byClock = guards.get(config);
  if (!byClock) {
    byClock = new Map();
    guards.set(config, byClock);
  }
  const clock = now === undefined ? 'real' : String(now);
  let entry = byClock.get(clock);
  if (!entry) {
    const time = now !== undefined ? { now: () => now } : {};
    // A configuration with its own `scanner:` section gets the scanner it describes.
    const inner = config.scanner === undefined ? sharedScanner : createGuard({ config, ...time }).scanner;
    const scanner = scannerSwitch(inner);
    entry = { guard: createGuard({ config, scanner, ...time }), scanner };
    byClock.set(clock, entry);
  }
  entry.scanner.event = event;
  return entry.guard;
}

type Route = 'middleware' | 'middleware-stream' | 'guardTools';

// Every run its own tool call id, as providers give them.
let calls = 0;
const nextCallId = () => `call-${++calls}`;

/** Runs the event through the SDK along `route` and returns the decision the adapter made about it. */
function throughTheSdk(sdk: Sdk, route: Route): ConformanceEvaluate {
  return async ({ config, event, now }) => {
    // `createGuard` throws for configurations the corpus expects to be refused: that is the answer.
    const guard = guardFor(config, event, now);
    const seen: Decision[] = [];
    const onDecision = (decision: Decision) => seen.push(decision);
    const scope = event.scope ?? {};
    const middleware = palisadeMiddleware(guard, { mode: 'shadow', onDecision, recordUsage: false });
    const wrap = (model: Loose) => sdk.wrapLanguageModel({ model, middleware });
    const tool = sdk.tool({ inputSchema: sdk.jsonSchema({ type: 'object' }) });
    const call = { providerOptions: { palisade: { scope } }, stopWhen: sdk.stepCountIs(2) };
    const tools = (execute?: () => unknown) =>
      guardTools({ [event.tool as string]: execute ? { ...tool, execute } : tool }, guard, { mode: 'shadow', scope, onDecision });

    switch (event.boundary) {
      case 'input':
        if (route === 'middleware-stream') {
          const base = sdk.mockModel({ doStream: { stream: sdk.simulateReadableStream({ chunks: textStream(['ok']) }) } });
          await readAll(sdk.streamText({ model: wrap(base), prompt: event.text ?? '', ...call }));
        } else {
          await sdk.generateText({ model: wrap(sdk.mockModel({ doGenerate: textResult('ok') })), prompt: event.text ?? '', ...call });
        }
        break;
      case 'output':
        if (route === 'middleware-stream') {
          const text = event.text ?? '';
          const deltas = text.length > 1 ? [text.slice(0, text.length >> 1), text.slice(text.length >> 1)] : [text];
          const base = sdk.mockModel({ doStream: { stream: sdk.simulateReadableStream({ chunks: textStream(deltas) }) } });
          await readAll(sdk.streamText({ model: wrap(base), prompt: 'answer', ...call }));
        } else {
          await sdk.generateText({ model: wrap(sdk.mockModel({ doGenerate: textResult(event.text ?? '') })), prompt: 'answer', ...call });
        }
        break;
      case 'tool_call': {
        const base = sdk.mockModel({ doGenerate: [toolCallResult(event.tool as string, event.args, nextCallId()), textResult('done')] });
        if (route === 'guardTools') {
          await sdk.generateText({ model: base, prompt: 'use the tool', tools: tools(() => 'ok'), ...call });
        } else {
          await sdk.generateText({ model: wrap(base), prompt: 'use the tool', tools: { [event.tool as string]: tool }, ...call });
        }
        break;
      }
      case 'tool_result': {
        const result = event.result ?? event.text;
        if (route === 'guardTools') {
          const base = sdk.mockModel({ doGenerate: [toolCallResult(event.tool as string, {}, nextCallId()), textResult('done')] });
          await sdk.generateText({ model: base, prompt: 'use the tool', tools: tools(() => result), ...call });
        } else {
          // The result as it comes back in the next prompt.
          const output = typeof result === 'string' ? { type: 'text', value: result } : { type: 'json', value: result };
          const messages = [
            { role: 'user', content: 'use the tool' },
            { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: event.tool, input: {} }] },
            { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: event.tool, output }] },
          ];
          await sdk.generateText({ model: wrap(sdk.mockModel({ doGenerate: textResult('ok') })), messages, ...call });
        }
        break;
      }
    }
    const decisions = seen.filter((decision) => decision.boundary === event.boundary && decision.tool === event.tool);
    const decision = decisions.at(-1);
    if (!decision) throw new Error(`the ${route} route made no ${event.boundary} decision`);
    return decision;
  };
}

const routesFor = (testCase: ConformanceCase): Route[] => {
  switch (testCase.event?.boundary) {
    case 'input':
    case 'output':
      return ['middleware', 'middleware-stream'];
    case 'tool_call':
    case 'tool_result':
      return ['middleware', 'guardTools'];
    default:
      // Configuration errors: the guard is never built, whatever the route.
      return ['middleware'];
  }
};

describe.each(sdks)('the conformance corpus through $name', (sdk: Sdk) => {
  it.each(['middleware', 'middleware-stream', 'guardTools'] as const)('passes every case routed through %s', async (route) => {
    const evaluate = throughTheSdk(sdk, route);
    const failures: string[] = [];
    let ran = 0;
    for (const testCase of cases) {
      if (testCase.skip !== undefined || !routesFor(testCase).includes(route)) continue;
      ran++;
      const result = await runConformanceCase(testCase, evaluate);
      if (!result.ok) failures.push(`${testCase.file}:${testCase.line} "${testCase.name}"\n    ${result.mismatches.join('\n    ')}`);
    }
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(route === 'middleware' ? 300 : 100);
  });
});
