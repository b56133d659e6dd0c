#!/usr/bin/env node
// @palisade/langchain: latency Palisade adds to each intercepted LangChain call, on fake models,
// with SQLite state and the audit log on (receipts are written behind the decision).
//
// 1. At the seam (target <= 50 µs at p99 per intercepted call): each hook of palisadeMiddleware,
//    PalisadeCallbackHandler and guardTool called with LangChain's own request objects and an
//    instant inner handler, against the inner handler alone. This is Palisade's own cost.
// 2. End to end: createAgent runs (2 model calls, 1 tool call) with palisadeMiddleware, with a
//    no-op middleware of the same hook shape, and with no middleware. The first difference is
//    Palisade's work; the second is LangGraph's cost of running middleware hooks at all (graph
//    nodes), which any middleware pays. Figures are printed; nothing is asserted.
//
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/langchain/tsconfig.build.json
//   node bench/langchain-bench.mjs [--quick]
//
// `run({ quick })` is exported for bench/run.mjs and returns the figures.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_P99_US = 50;

/** Imports a package the way packages/langchain resolves it (same module instances as its dist). */
async function fromLangchainPackage(specifier) {
  const require = createRequire(join(root, 'packages/langchain/package.json'));
  const [name, subpath] = specifier.startsWith('@')
    ? [specifier.split('/').slice(0, 2).join('/'), specifier.split('/').slice(2).join('/')]
    : [specifier.split('/')[0], specifier.split('/').slice(1).join('/')];
  const manifestPath = realpathSync(require.resolve(`${name}/package.json`));
  const target = JSON.parse(readFileSync(manifestPath, 'utf8')).exports[subpath ? `./${subpath}` : '.'].import;
  const entry = typeof target === 'string' ? target : target.default;
  return import(pathToFileURL(join(dirname(manifestPath), entry)).href);
}

const config = {
  platform: { rules: [{ name: 'no shell', priority: 1000, action: 'block', match: { boundary: 'tool_call', tool: 'shell' } }] },
  policies: {
    assistant: {
      extends: 'balanced',
      rules: [
        { name: 'mask pii', priority: 100, action: 'redact', match: { boundary: ['input', 'output', 'tool_result'], family: 'PII' } },
        { name: 'external email', priority: 90, action: 'escalate', match: { boundary: 'tool_call', tool: 'email.send' } },
      ],
    },
  },
  tenants: { acme: { default_policy: 'assistant' } },
  budgets: { default_limits: [{ period: 'month', limit_usd: 1_000_000, action: 'hard_block' }] },
};

const prompt = 'Look up the renewal date and plan of customer c-1042, then draft a two-line reminder for the account manager.';
const reply =
  'Customer c-1042 is on the Team plan and renews on 14 March. Reminder: "Renewal for c-1042 is due on 14 March; please confirm the seat count with the customer before then."';
const toolResult = JSON.stringify({ customerId: 'c-1042', plan: 'Team', seats: 25, renewal: '2031-03-14', owner: 'account team north' });

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const micro = (ms) => `${(ms * 1000).toFixed(1)} µs`;

/**
 * A guard that adds up the time spent inside its decision and state calls, so the adapter's own
 * share of a hook (translation, message building, LangChain plumbing) can be told apart from the
 * core's (scanning, policy, SQLite, audit append).
 */
function timedGuard(guard) {
  const timed = Object.create(guard);
  timed.spent = 0;
  for (const method of ['evaluate', 'checkBudget', 'recordUsage', 'waitForApproval']) {
    timed[method] = async (...args) => {
      const started = performance.now();
      try {
        return await guard[method](...args);
      } finally {
        timed.spent += performance.now() - started;
      }
    };
  }
  return timed;
}

/**
 * Times `fn` (a Palisade hook over `guard`) and `baseline` (the same call without Palisade)
 * interleaved, so load on the machine hits both alike. Per call: the total added time, the part
 * spent in the guard, and the adapter's own part. Figures in ms.
 */
async function compare(fn, baseline, iterations, guard) {
  const warmup = Math.min(300, iterations);
  for (let index = 0; index < warmup; index++) {
    await fn(index);
    await baseline(index);
  }
  const total = new Float64Array(iterations);
  const inGuard = new Float64Array(iterations);
  const adapter = new Float64Array(iterations);
  const without = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    const spentBefore = guard?.spent ?? 0;
    let started = performance.now();
    await fn(index);
    total[index] = performance.now() - started;
    inGuard[index] = (guard?.spent ?? 0) - spentBefore;
    started = performance.now();
    await baseline(index);
    without[index] = performance.now() - started;
    adapter[index] = total[index] - inGuard[index] - without[index];
  }
  for (const series of [total, inGuard, adapter, without]) series.sort();
  const figures = (series) => ({ p50: percentile(series, 0.5), p99: percentile(series, 0.99) });
  return { total: figures(total), guard: figures(inGuard), adapter: figures(adapter), baseline: figures(without) };
}

export async function runLangchainBench({ quick = false } = {}) {
  const { createGuard } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const { palisadeMiddleware, PalisadeCallbackHandler, guardTool } = await import(
    pathToFileURL(join(root, 'packages/langchain/dist/index.js')).href
  );
  const { AIMessage, HumanMessage, ToolMessage } = await fromLangchainPackage('@langchain/core/messages');
  const { fakeModel } = await fromLangchainPackage('@langchain/core/testing');
  const { tool } = await fromLangchainPackage('@langchain/core/tools');
  const { createAgent, createMiddleware } = await fromLangchainPackage('langchain');
  const { z } = await fromLangchainPackage('zod');

  const folder = mkdtempSync(join(tmpdir(), 'palisade-langchain-bench-'));
  const guard = createGuard({ config, state: { directory: folder } });
  const stateless = createGuard({ config, state: false });
  const scope = { tenantId: 'acme' };
  const iterations = quick ? 500 : 3_000;
  const pair = ({ p50, p99 }) => `p50 ${micro(p50).padStart(8)} p99 ${micro(p99).padStart(8)}`;
  const results = {};
  try {
    console.log(`\n@palisade/langchain: added latency per intercepted call (${iterations} calls each, fake models)`);
    console.log('1. At the seam: Palisade hook vs the inner handler alone. "adapter" is the hook minus the time inside');
    console.log('   the guard (its decision, SQLite state, audit append): the target is <= 50 µs at p99 for it.');
    console.log(`    ${'seam'.padEnd(46)} ${'added (all of Palisade)'.padEnd(26)} ${'in the guard'.padEnd(26)} adapter`);

    const runtime = { context: undefined, signal: new AbortController().signal };
    const agentState = { messages: [new HumanMessage({ content: prompt, id: 'h1' })] };
    const conversation = [[new HumanMessage(prompt)]];
    const toolCall = { name: 'crm.lookup', args: { customerId: 'c-1042', fields: ['plan', 'renewal'] }, id: 'call_1', type: 'tool_call' };
    const toolMessage = new ToolMessage({ content: toolResult, tool_call_id: 'call_1', name: 'crm.lookup' });
    const aiMessage = new AIMessage({
      content: reply,
      id: 'run-1',
      usage_metadata: { input_tokens: 420, output_tokens: 60, total_tokens: 480 },
      response_metadata: { model_name: 'gpt-4o-mini' },
    });
    const toolHandler = async () => toolMessage;
    const modelHandler = async () => aiMessage;

    const seamFigures = async (seamGuard, title) => {
      const figuresBySeam = {};
      console.log(`  with ${title}:`);
      const timed = timedGuard(seamGuard);
      const middleware = palisadeMiddleware(timed, { scope });
      const seams = {
        'middleware wrapToolCall (call + result)': [
          () => middleware.wrapToolCall({ toolCall, tool: undefined, state: { messages: [] }, runtime }, toolHandler),
          () => toolHandler(),
        ],
        'middleware wrapModelCall (budget, usage, reply)': [
          () =>
            middleware.wrapModelCall(
              { model: {}, messages: [], tools: [], systemPrompt: '', state: { messages: [] }, runtime },
              modelHandler,
            ),
          () => modelHandler(),
        ],
        'middleware beforeAgent (prompt)': [() => middleware.beforeAgent.hook(agentState, runtime), () => undefined],
      };
      const handler = new PalisadeCallbackHandler(timed, { scope });
      const serialized = { lc: 1, type: 'not_implemented', id: ['bench'] };
      seams['callback handleToolStart + handleToolEnd'] = [
        async (index) => {
          await handler.handleToolStart(
            serialized,
            JSON.stringify(toolCall.args),
            `tool-${index}`,
            undefined,
            [],
            {},
            'crm.lookup',
            'call_1',
          );
          await handler.handleToolEnd(toolMessage, `tool-${index}`);
        },
        () => undefined,
      ];
      seams['callback handleChatModelStart + handleLLMEnd'] = [
        async (index) => {
          await handler.handleChatModelStart(serialized, conversation, `llm-${index}`, undefined, {}, [], { ls_model_name: 'gpt-4o-mini' });
          await handler.handleLLMEnd({ generations: [[{ text: reply, message: aiMessage }]] }, `llm-${index}`);
        },
        () => undefined,
      ];
      const lookup = tool(async () => toolResult, {
        name: 'crm.lookup',
        description: 'Looks a customer up',
        schema: z.object({ customerId: z.string(), fields: z.array(z.string()) }),
      });
      const guarded = guardTool(lookup, timed, { scope });
      seams['guardTool invoke (incl. its inner tool run)'] = [() => guarded.invoke(toolCall.args), () => lookup.invoke(toolCall.args)];

      for (const [label, [fn, baseline]] of Object.entries(seams)) {
        const figures = await compare(fn, baseline, iterations, timed);
        const added = { p50: figures.total.p50 - figures.baseline.p50, p99: figures.total.p99 - figures.baseline.p99 };
        figuresBySeam[label] = { ...figures, added };
        const met = figures.adapter.p99 * 1000 <= TARGET_P99_US ? 'met' : 'missed';
        console.log(`    ${label.padEnd(46)} ${pair(added)}  ${pair(figures.guard)}  ${pair(figures.adapter)} (${met})`);
      }
      return figuresBySeam;
    };
    for (const [label, seamGuard] of [
      ['SQLite state + audit log', guard],
      ['no state (decisions only)', stateless],
    ])
      results[label] = await seamFigures(seamGuard, label);

    console.log('2. End to end: createAgent, 2 model calls + 1 tool call per run (LangGraph included)');
    const lookupTool = tool(async () => toolResult, {
      name: 'crm.lookup',
      description: 'Looks a customer up',
      schema: z.object({ customerId: z.string(), fields: z.array(z.string()) }),
    });
    const model = () => {
      const fake = fakeModel();
      for (let index = 0; index < 20_000; index++)
        fake.respond(new AIMessage({ content: '', tool_calls: [{ ...toolCall, id: `call_${index}` }] })).respond(new AIMessage(reply));
      return fake;
    };
    const noop = createMiddleware({
      name: 'NoOp',
      beforeAgent: { canJumpTo: ['end'], hook: () => undefined },
      afterAgent: () => undefined,
      wrapModelCall: (request, next) => next(request),
      wrapToolCall: (request, next) => next(request),
    });
    const agents = {
      palisade: createAgent({ model: model(), tools: [lookupTool], middleware: [palisadeMiddleware(guard, { scope })] }),
      noop: createAgent({ model: model(), tools: [lookupTool], middleware: [noop] }),
      bare: createAgent({ model: model(), tools: [lookupTool] }),
    };
    const runs = quick ? 100 : 400;
    const invoke = (agent) => () => agent.invoke({ messages: [new HumanMessage(prompt)] });
    const vsNoop = await compare(invoke(agents.palisade), invoke(agents.noop), runs);
    const vsBare = await compare(invoke(agents.noop), invoke(agents.bare), runs);
    const palisadeShare = vsNoop.total.p50 - vsNoop.baseline.p50;
    const hooksShare = vsBare.total.p50 - vsBare.baseline.p50;
    // Intercepted calls per run: 1 prompt, 2 model calls (budget gate + reply), 1 tool call and its result.
    const intercepted = 4;
    results.agent = { vsNoop, vsBare, intercepted };
    console.log(`  agent run, no middleware                         ${pair(vsBare.baseline)}`);
    console.log(`  agent run, no-op middleware (same hooks)         ${pair(vsBare.total)}`);
    console.log(`  agent run, palisadeMiddleware                    ${pair(vsNoop.total)}`);
    console.log(
      `  per run at p50: Palisade ${micro(palisadeShare)} (${micro(palisadeShare / intercepted)} per intercepted call), LangGraph running the hooks ${micro(hooksShare)}`,
    );
    await guard.flushAudit();
    const audit = await guard.verifyAudit();
    console.log(`  audit receipts written and verified: ${audit.receipts} (${audit.ok ? 'chain ok' : 'BROKEN'})`);
  } finally {
    await Promise.all([guard.close(), stateless.close()]);
    rmSync(folder, { recursive: true, force: true });
  }
  return results;
}

export const run = runLangchainBench;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runLangchainBench({ quick: process.argv.includes('--quick') });
}
