import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createGuard, createScanner, type Decision, type Guard } from '@palisade/core';
import { type ConformanceEvaluate, evaluateWithGuard, loadConformanceCases, runConformanceCase } from '@palisade/core/test';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuardedProxy } from './create-guarded-proxy.js';

// The policy conformance corpus, run through the proxy: every tool call the MCP protocol can carry
// goes from the SDK's Client through the proxy to a real upstream server, and the decision the
// proxy applied is compared with the corpus. What MCP cannot express goes to the guard directly:
// other boundaries, tool results (the proxy hands the guard the result as MCP content, not the
// case's raw value, so `result.*` conditions would read something else), given detections (MCP
// carries arguments, not scan results), and arguments that are not a JSON object.

const scanner = createScanner();
const guards = new Map<Record<string, unknown>, Map<string, Guard>>();
afterAll(async () => {
  for (const byClock of guards.values()) for (const guard of byClock.values()) await guard.close();
});

function guardFor(config: Record<string, unknown>, now: number | undefined): Guard {
  const byClock = guards.get(config) ?? new Map<string, Guard>();
  guards.set(config, byClock);
  const clock = now === undefined ? 'real' : String(now);
  let guard = byClock.get(clock);
  if (!guard) {
    guard = createGuard({ config, ...(now !== undefined ? { now: () => now } : {}), ...(config.scanner === undefined ? { scanner } : {}) });
    byClock.set(clock, guard);
  }
  return guard;
}

let routed = 0;
let executedWhenRefused = 0;

const evaluateThroughProxy: ConformanceEvaluate = async (options) => {
  const { config, event, now } = options;
  const args = event.args ?? {};
  const routable =
    event.boundary === 'tool_call' &&
    typeof event.tool === 'string' &&
    event.tool.length > 0 &&
    args !== null &&
    typeof args === 'object' &&
    !Array.isArray(args) &&
    (event.detections === undefined || (event.detections.length === 0 && scanner.scan(args).detections.length === 0));
  if (!routable) return evaluateWithGuard(options);
  const tool = event.tool as string;
  const guard = guardFor(config, now);

  let executed = 0;
  const upstream = new Server({ name: 'conformance-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  upstream.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: tool, description: 'A tool.', inputSchema: { type: 'object' } }],
  }));
  upstream.setRequestHandler(CallToolRequestSchema, async () => {
    executed++;
    return { content: [{ type: 'text', text: 'done' }] };
  });
  const [upstreamSide, serverSide] = InMemoryTransport.createLinkedPair();
  await upstream.connect(serverSide);
  const upstreamClient = new Client({ name: 'proxy', version: '1.0.0' });
  await upstreamClient.connect(upstreamSide);

  let decision: Decision | undefined;
  const proxy = await createGuardedProxy({
    guard,
    config,
    upstream: upstreamClient,
    ...(event.scope ? { scope: event.scope } : {}),
    // The corpus checks the policy: the proxy's own default for uncovered tools stays out of it.
    uncoveredTools: 'allow',
    rateLimit: false,
    onEscalate: { waitMs: 0 },
    onDecision: (reported) => {
      if (reported.stage === 'tool_call' && decision === undefined) decision = reported.decision;
    },
  });
  const [clientSide, proxySide] = InMemoryTransport.createLinkedPair();
  await proxy.connect(proxySide);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    const result = (await client.callTool({ name: tool, arguments: args as Record<string, unknown> })) as CallToolResult;
    if (!decision) throw new Error('the proxy reported no decision for the call');
    const refused = decision.action === 'block' || decision.action === 'escalate';
    // The decision must also be what happened: a refused call never reaches the upstream.
    if (refused && (executed > 0 || !result.isError)) executedWhenRefused++;
    if (!refused && executed !== 1) throw new Error(`an allowed call reached the upstream ${executed} times`);
    routed++;
    return decision;
  } finally {
    await client.close();
    await proxy.close();
    await upstreamClient.close();
    await upstream.close();
  }
};

const cases = loadConformanceCases().filter((testCase) => testCase.skip === undefined);

// In order even under --sequence.shuffle: the last case counts what the cases above routed.
describe('the conformance corpus through the guarded proxy', { shuffle: false }, () => {
  for (const testCase of cases) {
    it(`${testCase.file} > ${testCase.name}`, async () => {
      const result = await runConformanceCase(testCase, evaluateThroughProxy);
      if (!result.ok) expect.fail(`${testCase.file}:${testCase.line} "${testCase.name}"\n  ${result.mismatches.join('\n  ')}`);
    });
  }

  it('routed the tool calls through MCP, and every refused one stayed away from the upstream', () => {
    expect(routed).toBeGreaterThanOrEqual(120);
    expect(executedWhenRefused).toBe(0);
  });
});
