import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Decision, Guard, Scope } from '@palisade/core';
import type { z } from 'zod';
import type { Caller } from '../caller.js';
import type { PalisadeToolName } from '../role-tools.js';
import type { ToolOutcome } from '../to-mcp-outcome.js';

/** A Palisade package found beside the server, for `list_plugins`. */
export interface AdapterInfo {
  name: string;
  version?: string;
}

/** What a tool's `run` gets besides its arguments. */
export interface ToolContext {
  guard: Guard;
  caller: Caller;
  /** The tenant the call acts for, already checked against the caller (tenant-scoped tools). */
  tenantId: string | undefined;
  /** The scope of a tenant-scoped call from its `app`, `user`, `session` arguments. */
  scope(args: { app?: string | undefined; user?: string | undefined; session?: string | undefined; policy?: string | undefined }): Scope;
  /** Turns a decision into the outcome (a refusal in enforce mode for block and escalate) and reports it. */
  decided(decision: Decision): ToolOutcome;
  /** Adds fields to this call's `mcp.tool_call` receipt (the decision's event id, a ticket id). */
  link(fields: Record<string, unknown>): void;
  server: { name: string; version: string; startedAt: number; adapters: () => AdapterInfo[] };
}

export interface PalisadeTool {
  name: PalisadeToolName;
  title: string;
  description: string;
  input: z.ZodRawShape;
  output: z.ZodType;
  annotations: ToolAnnotations;
  /** The call acts for a tenant: the pipeline resolves the `tenant` argument before `run`. */
  tenantScoped: boolean;
  run(args: Record<string, unknown>, context: ToolContext): Promise<ToolOutcome>;
}

/**
 * Declares a tool with typed arguments (the SDK has validated them against `input` before `run`).
 *
 * @example
 * export const healthCheck = defineTool({ name: 'health_check', input: {}, output, …, run: async (_, context) => ({ ok: true, data }) });
 */
export function defineTool<Input extends z.ZodRawShape>(
  tool: Omit<PalisadeTool, 'input' | 'run'> & {
    input: Input;
    run(args: z.output<z.ZodObject<Input>>, context: ToolContext): Promise<ToolOutcome>;
  },
): PalisadeTool {
  return tool as unknown as PalisadeTool;
}
