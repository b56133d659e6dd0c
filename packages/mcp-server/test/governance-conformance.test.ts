// The policy conformance corpus of @palisade/core, through the governance server: every event the
// tools can express goes through the SDK Client (in-memory transport) as a `scan` or
// `check_tool_call`, and the decision is read back from `structuredContent`.
//
// Routed to the guard directly instead (the tools cannot express them): events with given
// detections (the tools always scan), structured tool results (`scan` takes text), events
// without text or without a tool name and arguments object.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createGuard, type Decision, type Guard, type GuardEvent } from '@palisade/core';
import { type ConformanceEvaluate, evaluateWithGuard, loadConformanceCases, runConformanceCase } from '@palisade/core/test';
import { afterAll, describe, expect, it } from 'vitest';
import { call, connectInMemory, sharedScanner } from './governance-support.js';

const cases = loadConformanceCases();
const servers = new Map<Record<string, unknown>, Map<string, { guard: Guard; client: Client }>>();
const routed = { mcp: 0, direct: 0 };

/** The tool call that carries an event, or undefined when the tools cannot express it. */
function toToolCall(event: GuardEvent): { name: string; args: Record<string, unknown> } | undefined {
  if (event.detections !== undefined || event.eventId !== undefined || event.approvalId !== undefined) return undefined;
  const scope = event.scope ?? {};
  const scopeArgs: Record<string, unknown> = {};
  if (scope.tenantId !== undefined) scopeArgs.tenant = scope.tenantId;
  if (scope.appId !== undefined) scopeArgs.app = scope.appId;
  if (scope.userId !== undefined) scopeArgs.user = scope.userId;
  if (scope.sessionId !== undefined) scopeArgs.session = scope.sessionId;
  if (scope.policyId !== undefined) scopeArgs.policy = scope.policyId;
  if (event.boundary === 'tool_call') {
    const args = event.args;
    if (event.tool === undefined || args === null || typeof args !== 'object' || Array.isArray(args)) return undefined;
    return { name: 'check_tool_call', args: { tool: event.tool, arguments: args, ...scopeArgs } };
  }
  if (event.result !== undefined || event.text === undefined) return undefined;
  return {
    name: 'scan',
    args: { text: event.text, boundary: event.boundary, ...(event.tool !== undefined ? { tool: event.tool } : {}), ...scopeArgs },
  };
}

const evaluateOverMcp: ConformanceEvaluate = async (options) => {
  const toolCall = toToolCall(options.event);
  if (!toolCall) {
    routed.direct++;
    return evaluateWithGuard(options);
  }
  routed.mcp++;
  const { config, now } = options;
  const byClock = servers.get(config) ?? new Map<string, { guard: Guard; client: Client }>();
  servers.set(config, byClock);
  const clock = now === undefined ? 'real' : String(now);
  let server = byClock.get(clock);
  if (!server) {
    // A configuration that tunes the scanner gets its own; the others share one (compiling packs is slow).
    const guard = createGuard({
      config,
      ...(config.scanner === undefined ? { scanner: sharedScanner() } : {}),
      ...(now !== undefined ? { now: () => now } : {}),
    });
    server = { guard, client: await connectInMemory({ guard, rateLimiter: false }) };
    byClock.set(clock, server);
  }
  const result = await call(server.client, toolCall.name, toolCall.args);
  if (!result.structuredContent) throw new Error(`no decision from ${toolCall.name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as unknown as Decision;
};

afterAll(async () => {
  for (const byClock of servers.values()) {
    for (const { guard, client } of byClock.values()) {
      await client.close();
      await guard.close();
    }
  }
});

// In order even under --sequence.shuffle: the last case counts how the cases above were routed.
describe('the conformance corpus through the MCP tools', { shuffle: false }, () => {
  for (const testCase of cases) {
    if (testCase.skip !== undefined) continue;
    it(`${testCase.file}: ${testCase.name}`, async () => {
      const result = await runConformanceCase(testCase, evaluateOverMcp);
      if (!result.ok) expect.fail(`${testCase.file}:${testCase.line} "${testCase.name}"\n  ${result.mismatches.join('\n  ')}`);
    });
  }

  it('sent most expressible cases through MCP', () => {
    // Runs last (the suite is not shuffled): every case above has been routed one way or the other.
    expect(routed.mcp + routed.direct).toBeGreaterThan(100);
    expect(routed.mcp).toBeGreaterThan(40);
  });
});
