#!/usr/bin/env node
// AI SDK adapter latency: what Palisade adds to one intercepted call, measured against the same
// call without it, on the AI SDK's own mock models (ai@6, LanguageModelV3). Calls run one after
// another, so the figures are latencies. Prints p50/p99 in µs; asserts nothing.
//
// - model call, seam only: palisadeMiddleware's transformParams + wrapGenerate around a mock
//   doGenerate (a ~300-character prompt in, a ~300-character answer out: one input and one output
//   decision), minus the bare doGenerate. This is the "added latency per intercepted call".
// - model call, through generateText: the same, end to end (SDK overhead included in both).
// - tool call: a guardTools-wrapped execute (a tool_call and a tool_result decision) minus the bare one.
// - streamed answer: 40 deltas through wrapStream (hold-back, stretch scans, final decision).
//
// Each with a stateless guard and with state on a SQLite file plus an audit log in a temporary
// folder (audit writes happen behind the decision; the budget check and the usage record are on
// the call's path).
//
//   npm run build (packages/core, packages/vercel-ai) && node bench/vercel-ai-bench.mjs [--quick]
//
// `run({ quick })` returns the figures, for bench/run.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const adapter = join(root, 'packages/vercel-ai');
// `ai` is a dependency of the adapter package, not of the root: resolve it from there.
const requireFromAdapter = createRequire(join(adapter, 'package.json'));
const importFromAdapter = (specifier) => import(pathToFileURL(requireFromAdapter.resolve(specifier)).href);

const TARGET_P99_US = 50;
const percentile = (sorted, fraction) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
const fmt = (value) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1));

/** p50/p99 (µs) of `iterations` sequential awaited calls of `fn(index)`, after a warm-up. */
async function measure(fn, iterations, warmup = Math.min(500, iterations)) {
  for (let index = 0; index < warmup; index++) await fn(index);
  const times = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    const before = process.hrtime.bigint();
    await fn(index);
    times[index] = Number(process.hrtime.bigint() - before) / 1000;
  }
  times.sort();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/**
 * Added latency of `guarded` over `bare`: both measured interleaved in rounds (so drift and GC hit
 * both alike), then compared percentile by percentile.
 */
async function added(bare, guarded, iterations) {
  const rounds = 5;
  const bareTimes = [];
  const guardedTimes = [];
  for (let index = 0; index < Math.min(300, iterations); index++) {
    await bare(index);
    await guarded(index);
  }
  for (let round = 0; round < rounds; round++) {
    for (const [fn, times] of [
      [bare, bareTimes],
      [guarded, guardedTimes],
    ]) {
      for (let index = 0; index < iterations / rounds; index++) {
        const before = process.hrtime.bigint();
        await fn(index);
        times.push(Number(process.hrtime.bigint() - before) / 1000);
      }
    }
  }
  bareTimes.sort((left, right) => left - right);
  guardedTimes.sort((left, right) => left - right);
  return {
    bare: { p50: percentile(bareTimes, 0.5), p99: percentile(bareTimes, 0.99) },
    guarded: { p50: percentile(guardedTimes, 0.5), p99: percentile(guardedTimes, 0.99) },
    added: {
      p50: percentile(guardedTimes, 0.5) - percentile(bareTimes, 0.5),
      p99: percentile(guardedTimes, 0.99) - percentile(bareTimes, 0.99),
    },
  };
}

const config = `
platform:
  rules:
    - { name: no shell, priority: 1000, action: block, match: { boundary: tool_call, tool: shell } }
policies:
  support:
    extends: balanced
    rules:
      - { name: redact pii in prompts, priority: 50, action: redact, match: { boundary: input, family: PII } }
      - { name: redact secrets in answers, priority: 50, action: redact, match: { boundary: output, family: SEC } }
      - name: external email needs approval
        priority: 90
        action: escalate
        match: { boundary: tool_call, tool: email.send, when: { args.to: { not: { ends_with: "@acme.com" } } } }
budgets:
  prices: { mock-model-id: { input: 0.15, output: 0.6 } }
tenants:
  acme:
    default_policy: support
    budgets:
      - { period: month, limit_usd: 1000000, action: hard_block }
      - { per: user, period: day, limit_usd: 100000, action: soft_block }
`;

const prompt =
  'Hello, I am writing about my order from last week. The package arrived with a damaged corner and ' +
  'one of the two mugs inside was chipped. Could you tell me whether I should send it back, or whether ' +
  'you can ship a replacement directly? I would also like to know how long a refund usually takes.';
const answer =
  'I am sorry to hear that the mug arrived chipped. You do not need to send anything back: I have ' +
  'arranged a replacement, which ships within two working days. If you would rather have a refund, ' +
  'reply to this message and it will reach your original payment method within five to seven days.';

/**
 * A guard that decides instantly (allow, no detections, no state): with it, what a call costs
 * beyond the bare call is the adapter alone — the translation, the stream plumbing, the hold-back
 * bookkeeping — without the core's scanning and policy, which policy-bench measures.
 */
function instantGuard() {
  const decision = (event) => ({
    action: 'allow',
    eventId: 'bench',
    boundary: event.boundary,
    ...(event.tool !== undefined ? { tool: event.tool } : {}),
    scope: event.scope ?? {},
    detections: [],
    suppressedDetections: [],
    decidedBy: { layer: 'default', policyId: 'bench', rule: 'no rule matched', priority: -1 },
    reason: 'No rule matched',
    effectivePolicyId: 'bench',
    effectivePolicyMode: 'balanced',
    resolutionSource: 'system_default',
    policyVersion: 'bench',
    flags: [],
    diagnostics: { matchedRules: [], errors: [] },
    evaluationMs: 0,
  });
  return {
    evaluate: async (event) => decision(event),
    scanner: { scan: () => ({ detections: [], truncated: false, scannedLength: 0 }), rules: [], ruleCounts: {} },
    state: undefined,
    policyVersion: 'bench',
  };
}

/** Runs the benchmark, prints a report, and returns the figures (µs). */
export async function run({ quick = false } = {}) {
  const { createGuard } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const { palisadeMiddleware, guardTools } = await import(pathToFileURL(join(adapter, 'dist/index.js')).href);
  const ai = await importFromAdapter('ai');
  const { MockLanguageModelV3 } = await importFromAdapter('ai/test');

  const iterations = quick ? 2_000 : 10_000;
  const usage = {
    inputTokens: { total: 80, noCache: 80, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 70, text: 70, reasoning: undefined },
  };
  const generated = { content: [{ type: 'text', text: answer }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
  const model = { provider: 'mock', modelId: 'mock-model-id', specificationVersion: 'v3' };
  const params = { prompt: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] };
  const doGenerate = async () => generated;
  const deltas = [];
  for (let index = 0; index < answer.length; index += 8) deltas.push(answer.slice(index, index + 8));
  const streamParts = () => [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
    ...deltas.map((delta) => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
  const drain = async (stream) => {
    const reader = stream.getReader();
    while (!(await reader.read()).done) {}
  };
  const sourceStream = () => {
    const parts = streamParts();
    let index = 0;
    return new ReadableStream({
      pull(controller) {
        if (index < parts.length) controller.enqueue(parts[index++]);
        else controller.close();
      },
    });
  };
  const execute = async (input) => ({ ok: true, echoed: input.query });
  const toolOptions = (index) => ({ toolCallId: `call-${index}`, messages: [] });
  const scope = { tenantId: 'acme', userId: 'u-1' };

  /** The four intercepted calls, each against the same call without Palisade. */
  const calls = async (guard, { generateTextToo }) => {
    // Usage records go behind the answer; back-to-back calls would measure the wait for the
    // previous one, which a real call (separated by the model's own latency) does not see.
    const middleware = palisadeMiddleware(guard, { scope, recordUsage: false });
    const figures = {};
    figures.seam = await added(
      () => doGenerate(),
      async () => {
        const transformed = await middleware.transformParams({ params, type: 'generate', model });
        return middleware.wrapGenerate({ doGenerate, doStream: undefined, params: transformed, model });
      },
      iterations,
    );
    if (generateTextToo) {
      const bareModel = new MockLanguageModelV3({ doGenerate: async () => generated });
      const wrappedModel = ai.wrapLanguageModel({ model: bareModel, middleware });
      figures.endToEnd = await added(
        () => ai.generateText({ model: bareModel, prompt }),
        () => ai.generateText({ model: wrappedModel, prompt }),
        Math.floor(iterations / 2),
      );
    }
    const bareTool = ai.tool({ inputSchema: ai.jsonSchema({ type: 'object' }), execute });
    const guardedTool = guardTools({ 'kb.search': bareTool }, guard, { scope })['kb.search'];
    figures.toolCall = await added(
      (index) => bareTool.execute({ query: 'refund policy for damaged items' }, toolOptions(index)),
      (index) => guardedTool.execute({ query: 'refund policy for damaged items' }, toolOptions(index)),
      iterations,
    );
    figures.stream = await added(
      () => drain(sourceStream().pipeThrough(new TransformStream())),
      async () => {
        const transformed = await middleware.transformParams({ params, type: 'stream', model });
        const result = await middleware.wrapStream({ doStream: async () => ({ stream: sourceStream() }), params: transformed, model });
        await drain(result.stream);
      },
      Math.floor(iterations / 4),
    );
    return figures;
  };

  const results = {};
  const header = (title) => {
    console.log(title);
    console.log('| call | without p50 µs | with p50 µs | added p50 µs | added p99 µs |');
    console.log('|---|---|---|---|---|');
  };
  const row = (label, figures) =>
    console.log(
      `| ${label} | ${fmt(figures.bare.p50)} | ${fmt(figures.guarded.p50)} | ${fmt(figures.added.p50)} | ${fmt(figures.added.p99)} |`,
    );
  const rows = (figures) => {
    row('model call, seam (transformParams + wrapGenerate: input and output decision)', figures.seam);
    if (figures.endToEnd) row('model call, through generateText', figures.endToEnd);
    row('tool call (guardTools execute: tool_call and tool_result decision)', figures.toolCall);
    row(`streamed answer, ${answer.length} characters in ${deltas.length} deltas (per call)`, figures.stream);
  };

  console.log(`## AI SDK adapter: added latency per intercepted call (ai@6 mock models, ${iterations.toLocaleString('en')} calls each)\n`);
  results.adapter = await calls(instantGuard(), { generateTextToo: false });
  header('The adapter itself (a guard that decides instantly: no scanning, no policy, no state):\n');
  rows(results.adapter);

  const folder = mkdtempSync(join(tmpdir(), 'palisade-vercel-ai-bench-'));
  const guards = [
    ['stateless', createGuard({ config })],
    ['SQLite + audit', createGuard({ config, state: { directory: folder } })],
  ];
  try {
    for (const [name, guard] of guards) {
      results[name] = await calls(guard, { generateTextToo: name === 'stateless' });
      // The same decisions asked of the guard directly: what the core costs, whoever calls it.
      results[name].coreModelCall = await measure(async () => {
        await guard.scanInput(prompt, scope);
        await guard.scanOutput(answer, scope);
      }, iterations);
      if (guard.state) {
        results[name].usageRecord = await measure(
          () => guard.recordUsage({ model: 'mock-model-id', inputTokens: 80, outputTokens: 70 }, scope),
          Math.floor(iterations / 4),
        );
      }
      header(`\nWith a real guard, ${name} (the core's scanning and policy included):\n`);
      rows(results[name]);
      console.log(
        `\nThe same input and output decisions asked of the guard directly: p50 ${fmt(results[name].coreModelCall.p50)} µs, p99 ${fmt(results[name].coreModelCall.p99)} µs.` +
          (results[name].usageRecord
            ? ` Usage record (behind the answer): p50 ${fmt(results[name].usageRecord.p50)} µs, p99 ${fmt(results[name].usageRecord.p99)} µs.`
            : ''),
      );
    }
  } finally {
    for (const [, guard] of guards) await guard.close();
    rmSync(folder, { recursive: true, force: true });
  }
  const own = results.adapter;
  const worst = Math.max(own.seam.added.p99, own.toolCall.added.p99);
  console.log(
    `\nTarget: the adapter adds <= ${TARGET_P99_US} µs p99 per intercepted call: model call ${fmt(own.seam.added.p99)} µs, ` +
      `tool call ${fmt(own.toolCall.added.p99)} µs (${worst <= TARGET_P99_US ? 'met' : 'NOT met'}); a streamed answer ` +
      `${fmt(own.stream.added.p99)} µs per call (${fmt(own.stream.added.p99 / deltas.length)} µs per delta).\n`,
  );
  return results;
}

export { run as runVercelAiBench };

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await run({ quick: process.argv.includes('--quick') });
}
