import { basename } from 'node:path';
import { families } from '@palisade/core';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { explanationSchema, policyInput, scopeInput } from './tool-schemas.js';

export const reloadPoliciesTool = defineTool({
  name: 'reload_policies',
  title: 'Reload the policies',
  description:
    'Reloads palisade.yaml (and the files it includes). Reports the new policy version, or the error and the version that still ' +
    'serves: a failed reload never replaces the last good configuration. Admin only.',
  input: {},
  output: z.object({
    ok: z.boolean(),
    version: z.string().describe('The policy version serving after the call.'),
    previousVersion: z.string().optional(),
    error: z.string().optional().describe('Why the reload failed (file, line, column and field path).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  tenantScoped: false,
  async run(_args, context) {
    const result = await context.guard.reload();
    context.link({ policyVersion: result.version });
    if (result.ok) return { ok: true, data: { ok: true, version: result.version, previousVersion: result.previousVersion } };
    return {
      ok: false,
      code: 'RELOAD_FAILED',
      message: `Reload failed; the previous policy (version ${result.version}) still serves.\n${result.error.message}`,
      data: { ok: false, version: result.version, error: result.error.message },
    };
  },
});

export const explainPolicyTool = defineTool({
  name: 'explain_policy',
  title: 'Explain the policy of a scope',
  description:
    'The resolution chain for a scope (request override, app default, tenant default, system default) and which step was chosen, ' +
    'the effective policy, its rules and the platform rules (highest priority first), and the tenant suppressions.',
  input: { tenant: scopeInput.tenant, app: scopeInput.app, user: scopeInput.user, policy: policyInput },
  output: explanationSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    return { ok: true, data: { ...context.guard.explain(context.scope(args)) } };
  },
});

const familyCounts = z.record(z.string(), z.number());

export const listPluginsTool = defineTool({
  name: 'list_plugins',
  title: 'List rule packs, alert channels and adapters',
  description:
    'The loaded detection rule packs with their rule counts per family, the configured alert channels (name and type, never their ' +
    'secrets), and the Palisade adapters installed beside this server.',
  input: {},
  output: z.object({
    rulePacks: z.array(z.object({ pack: z.string(), rules: z.number(), families: familyCounts })),
    ruleCounts: familyCounts,
    totalRules: z.number(),
    alertChannels: z.array(z.object({ name: z.string(), type: z.string() })),
    adapters: z.array(z.object({ name: z.string(), version: z.string().optional() })),
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: false,
  async run(_args, context) {
    const scanner = context.guard.scanner;
    const packs = new Map<string, { pack: string; rules: number; families: Record<string, number> }>();
    for (const rule of scanner.rules) {
      // Only the file name: where the packs live on disk is not the caller's business.
      const pack = basename(rule.file);
      const entry = packs.get(pack) ?? { pack, rules: 0, families: {} };
      entry.rules += 1;
      entry.families[rule.family] = (entry.families[rule.family] ?? 0) + 1;
      packs.set(pack, entry);
    }
    const ruleCounts: Record<string, number> = {};
    for (const family of families) ruleCounts[family] = scanner.ruleCounts[family] ?? 0;
    const channels = context.guard.state?.alertSettings.channels ?? {};
    return {
      ok: true,
      data: {
        rulePacks: [...packs.values()].sort((left, right) => left.pack.localeCompare(right.pack)),
        ruleCounts,
        totalRules: scanner.rules.length,
        alertChannels: Object.entries(channels).map(([name, channel]) => ({ name, type: channel.type })),
        adapters: context.server.adapters(),
      },
    };
  },
});
