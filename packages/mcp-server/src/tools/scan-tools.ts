import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { decisionSchema, policyInput, scopeInput } from './tool-schemas.js';

/**
 * `scan`: decides a text at a boundary (a prompt before the model, the model's answer, a tool's
 * result) and returns the full decision. In enforce mode a `block` or `escalate` decision comes
 * back as `isError: true` with the reason, the decision still in `structuredContent`.
 */
export const scanTool = defineTool({
  name: 'scan',
  title: 'Scan text against the policy',
  description:
    'Scans a text crossing a boundary (input: a prompt to the model; output: the model answer; tool_result: what a tool returned) ' +
    'and returns the Palisade decision: action (allow, log, flag, redact, escalate, block), reason, detections, the rule that decided, ' +
    'redactedText when the action is redact. A block or escalate is reported as an error result with the reason.',
  input: {
    text: z.string().describe('The text to decide.'),
    boundary: z.enum(['input', 'output', 'tool_result']).default('input').describe('Where the text crosses. Default input.'),
    tool: z.string().min(1).optional().describe('For tool_result: the tool that returned the text.'),
    ...scopeInput,
    policy: policyInput,
  },
  output: decisionSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    const decision = await context.guard.evaluate({
      boundary: args.boundary,
      text: args.text,
      ...(args.tool !== undefined ? { tool: args.tool } : {}),
      scope: context.scope(args),
    });
    return context.decided(decision);
  },
});

/**
 * `check_tool_call`: decides a tool call the agent wants to make. An escalation carries
 * `approvalId`; once approved, the same call checked again with that `approvalId` is allowed, once.
 */
export const checkToolCallTool = defineTool({
  name: 'check_tool_call',
  title: 'Check a tool call against the policy',
  description:
    'Decides whether an agent may make a tool call (tool name and arguments). Returns the Palisade decision; block and escalate come ' +
    'back as an error result with the reason. An escalation names an approvalId: after approval, check the very same call again with ' +
    'that approvalId to be allowed once.',
  input: {
    tool: z.string().min(1).describe('The tool the agent wants to call, e.g. email.send.'),
    arguments: z.record(z.string(), z.unknown()).default({}).describe('The arguments of the call.'),
    ...scopeInput,
    policy: policyInput,
    approvalId: z.string().min(1).optional().describe('The ticket of an earlier escalation of this very call.'),
  },
  output: decisionSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    const decision = await context.guard.evaluate({
      boundary: 'tool_call',
      tool: args.tool,
      args: args.arguments,
      scope: context.scope(args),
      ...(args.approvalId !== undefined ? { approvalId: args.approvalId } : {}),
    });
    return context.decided(decision);
  },
});
