import { type CompiledConfig, compileConfig, InvalidConfigError, loadConfig, presets } from '@palisade/core';
import { stringify } from 'yaml';
import { CliError } from '../cli-error.js';
import type { OutputFormat, ReadConfig } from '../command-context.js';
import { formatIssues } from '../config/plan-config-edit.js';
import { requireConfig } from '../config/resolve-config-path.js';
import { paintAction } from '../output/format-decision.js';
import { runPolicyTests } from '../policy/run-policy-tests.js';
import { applyEdit } from './apply-edit.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { addScopeOptions, type ScopeOptions, scopeFromOptions } from './scan-command.js';
import { explainScope } from './tenant-command.js';

/** The `match:` of a compiled rule as written, found by the policy that defines it and its name. */
function ruleMatch(config: ReadConfig, policyId: string, name: string): unknown {
  const own =
    config.loaded.config.policies[policyId]?.rules ?? (policyId === 'platform' ? config.loaded.config.platform?.rules : undefined);
  const preset = (presets as Record<string, readonly { name: string; match?: unknown }[]>)[policyId];
  return (own ?? preset)?.find((rule) => rule.name === name)?.match;
}

function oneLine(value: unknown): string {
  if (value === undefined) return '(every event)';
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
}

/** Which tenants and apps use a policy, and whether it is the system default. */
function usersOf(compiled: CompiledConfig, policyId: string): string[] {
  const users: string[] = [];
  if (compiled.defaults.policy === policyId) users.push('(default)');
  for (const tenant of compiled.tenants.values()) {
    if (tenant.defaultPolicy === policyId) users.push(tenant.id);
    if (tenant.shadowPolicy === policyId) users.push(`${tenant.id} (shadow)`);
    for (const app of tenant.apps.values()) {
      if (app.defaultPolicy === policyId) users.push(`${tenant.id}/${app.id}`);
      if (app.shadowPolicy === policyId) users.push(`${tenant.id}/${app.id} (shadow)`);
    }
  }
  return users;
}

function requirePolicy(config: ReadConfig, id: string) {
  const policy = config.compiled.policies.get(id);
  if (policy) return policy;
  throw new CliError({
    code: 'NOT_FOUND',
    message: `No policy "${id}".`,
    hint: `Policies: ${[...config.compiled.policies.keys()].join(', ')}.`,
  });
}

export function registerPolicyCommand({ program, context, run }: RegisterOptions): void {
  const policy = program.command('policy').summary('list, show, set, explain, validate and test policies');

  policy
    .command('list')
    .description('list the presets and the policies of palisade.yaml, with who uses each')
    .addOption(outputOption())
    .action(
      run((options: { output: OutputFormat }) => {
        const config = context.readConfig();
        const rows = [...config.compiled.policies.values()].map((compiled) => {
          const definition = config.loaded.config.policies[compiled.id];
          return {
            id: compiled.id,
            kind: definition ? 'custom' : 'preset',
            extends: definition?.extends,
            mode: compiled.mode,
            rules: compiled.rules.length,
            description: definition?.description,
            usedBy: usersOf(config.compiled, compiled.id),
          };
        });
        context.printRows(
          rows,
          [
            { header: 'POLICY', value: (row) => row.id },
            { header: 'KIND', value: (row) => row.kind },
            { header: 'EXTENDS', value: (row) => row.extends ?? '' },
            { header: 'MODE', value: (row) => row.mode },
            { header: 'RULES', value: (row) => String(row.rules) },
            { header: 'USED BY', value: (row) => row.usedBy.join(', ') },
          ],
          options.output,
        );
        return 0;
      }),
    );

  policy
    .command('show')
    .description('show the rules of a policy, inherited ones included, highest priority first')
    .argument('<id>', 'policy id or preset')
    .addOption(outputOption())
    .action(
      run((id: string, options: { output: OutputFormat }) => {
        const config = context.readConfig();
        const compiled = requirePolicy(config, id);
        const rules = [...compiled.rules]
          .sort((left, right) => right.priority - left.priority || left.order - right.order)
          .map((rule) => ({
            priority: rule.priority,
            action: rule.action,
            name: rule.name,
            from: rule.policyId,
            match: ruleMatch(config, rule.policyId, rule.name),
            reason: rule.reason,
          }));
        const definition = config.loaded.config.policies[id];
        if (options.output === 'json') {
          context.print(
            JSON.stringify(
              {
                id,
                mode: compiled.mode,
                extends: definition?.extends,
                defaultAction: compiled.defaultAction,
                onError: compiled.onError,
                rules,
              },
              null,
              2,
            ),
          );
          return 0;
        }
        const { colors } = context;
        context.print(
          `${colors.bold(id)}  ${definition ? `custom${definition.extends ? `, extends ${definition.extends}` : ''}` : 'preset'}; mode ${compiled.mode}; default action ${compiled.defaultAction}; on error ${compiled.onError}`,
        );
        if (definition?.description) context.print(colors.dim(definition.description));
        context.printRows(
          rules,
          [
            { header: 'PRIO', value: (rule) => String(rule.priority) },
            { header: 'ACTION', value: (rule) => paintAction(rule.action, colors) },
            { header: 'RULE', value: (rule) => rule.name, maxWidth: 40 },
            { header: 'FROM', value: (rule) => rule.from },
            { header: 'MATCH', value: (rule) => oneLine(rule.match), maxWidth: 80 },
          ],
          'table',
        );
        return 0;
      }),
    );

  policy
    .command('set')
    .description('set the default (or shadow) policy of a tenant, of an app, or of the whole system')
    .argument('<policy>', 'policy id or preset')
    .option('-t, --tenant <id>', 'the tenant (without it: defaults.policy, the system default)')
    .option('-a, --app <id>', 'an app of the tenant')
    .option('--shadow', 'set the shadow policy (evaluated beside the enforced one, differences reported)')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((policyId: string, options: { tenant?: string; app?: string; shadow?: boolean; dryRun?: boolean }) =>
        applyEdit(
          context,
          {
            kind: 'policy.set',
            policyId,
            ...(options.tenant !== undefined ? { tenantId: options.tenant } : {}),
            ...(options.app !== undefined ? { appId: options.app } : {}),
            ...(options.shadow ? { shadow: true } : {}),
          },
          { dryRun: options.dryRun ?? false },
        ),
      ),
    );

  addScopeOptions(
    policy
      .command('explain')
      .description('which policy a scope resolves to, through which chain, and the rules and suppressions that apply'),
  )
    .addOption(outputOption())
    .action(
      run((options: ScopeOptions & { output: OutputFormat }) => {
        const config = context.readConfig();
        const explanation = explainScope(config, scopeFromOptions(options), context.io.env);
        if (options.output === 'json') {
          context.print(JSON.stringify(explanation, null, 2));
          return explanation.ok ? 0 : 1;
        }
        const { colors } = context;
        const label = (name: string) => colors.dim(name.padEnd(12));
        const chain = explanation.chain.map((step) => `${step.level}${step.policyId ? `=${step.policyId}` : ''}${step.chosen ? ' ✓' : ''}`);
        context.print(`${label('scope')} ${JSON.stringify(explanation.scope)}`);
        context.print(`${label('chain')} ${chain.join(' → ') || '(none)'}`);
        if (!explanation.ok) {
          context.print(`${label('result')} ${colors.red(`every event is blocked: ${explanation.reason}`)}`);
          if (explanation.flags.length) context.print(`${label('flags')} ${explanation.flags.join(', ')}`);
          return 1;
        }
        context.print(
          `${label('policy')} ${colors.bold(explanation.effectivePolicyId ?? '')} (${explanation.effectivePolicyMode}, from ${explanation.resolutionSource?.replace('_', ' ')})`,
        );
        if (explanation.shadowPolicyId) context.print(`${label('shadow')} ${explanation.shadowPolicyId}`);
        if (explanation.flags.length) context.print(`${label('flags')} ${explanation.flags.join(', ')}`);
        context.print(`${label('version')} ${explanation.policyVersion}`);
        context.print('');
        context.printRows(
          explanation.rules,
          [
            { header: 'LAYER', value: (rule) => rule.layer },
            { header: 'PRIO', value: (rule) => String(rule.priority) },
            { header: 'ACTION', value: (rule) => paintAction(rule.action, colors) },
            { header: 'RULE', value: (rule) => rule.name, maxWidth: 40 },
            { header: 'FROM', value: (rule) => rule.policyId },
            { header: 'MATCH', value: (rule) => oneLine(ruleMatch(config, rule.policyId, rule.name)), maxWidth: 70 },
          ],
          'table',
        );
        if (explanation.suppressions.length > 0) {
          context.print('');
          context.printRows(
            explanation.suppressions,
            [
              { header: 'SUPPRESSES', value: (item) => item.rule },
              { header: 'ACTION', value: (item) => item.action },
              { header: 'APP', value: (item) => item.app ?? '(all)' },
              { header: 'ACTIVE', value: (item) => (item.active ? 'yes' : 'no') },
              { header: 'REASON', value: (item) => item.reason },
            ],
            'table',
          );
        }
        return 0;
      }),
    );

  policy
    .command('validate')
    .description('check palisade.yaml and its includes as a guard would load them (real environment); exit 1 when invalid')
    .addOption(outputOption())
    .action(
      run((options: { output: OutputFormat }) => {
        const path = requireConfig(context.configLocation());
        try {
          const loaded = loadConfig({ path, env: context.io.env });
          const compiled = compileConfig(loaded);
          const summary = {
            ok: true,
            file: path,
            files: loaded.files,
            version: compiled.version,
            policies: Object.keys(loaded.config.policies).length,
            tenants: compiled.tenants.size,
            platformRules: compiled.platform.rules.length,
          };
          if (options.output === 'json') context.print(JSON.stringify(summary, null, 2));
          else
            context.print(
              `${context.colors.green('✓')} ${context.show(path)} is valid: ${summary.files.length} file${summary.files.length === 1 ? '' : 's'}, ${summary.policies} polic${summary.policies === 1 ? 'y' : 'ies'}, ${summary.tenants} tenant${summary.tenants === 1 ? '' : 's'}, ${summary.platformRules} platform rule${summary.platformRules === 1 ? '' : 's'} (version ${summary.version}).`,
            );
          return 0;
        } catch (error) {
          if (!InvalidConfigError.isInstance(error)) throw error;
          if (options.output === 'json') context.print(JSON.stringify({ ok: false, file: path, issues: error.issues }, null, 2));
          else {
            context.print(
              `${context.colors.red('✗')} ${context.show(path)} is invalid (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`,
            );
            context.print(`  ${formatIssues(error.issues, context.io.cwd)}`);
          }
          return 1;
        }
      }),
    );

  policy
    .command('test')
    .description("run policies' example cases (policy-tests/<policy>.yaml beside palisade.yaml); exit 1 on any failure")
    .argument('[policies...]', 'only these policies (default: every file)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
A test file is named after the policy it tests and holds cases in the format of Palisade's conformance corpus:

  cases:
    - name: an email to a customer needs approval
      event: { boundary: tool_call, tool: email.send, args: { to: eve@example.com }, scope: { tenantId: acme }, detections: [] }
      expect: { action: escalate, decidedBy: { rule: external email needs approval } }

Cases run against palisade.yaml with the file's policy as the request's policy (scope.policyId). Give
\`detections\` to test the policy alone; leave them out to run the scanner on the text.`,
    )
    .action(
      run(async (policies: string[], options: { output: OutputFormat }) => {
        const config = context.readConfig();
        for (const id of policies) requirePolicy(config, id);
        const report = await runPolicyTests({ configPath: config.path, compiled: config.compiled, env: context.io.env, policies });
        if (options.output === 'json') {
          context.print(JSON.stringify(report, null, 2));
          return report.failed > 0 || report.problems.length > 0 ? 1 : 0;
        }
        const { colors } = context;
        if (report.files.length === 0) {
          context.note(
            `palisade: no policy tests in ${context.show(report.directory)} (write <policy>.yaml there; \`palisade init\` writes an example).`,
          );
          return 0;
        }
        let file: string | undefined;
        for (const result of report.results) {
          if (result.file !== file) {
            file = result.file;
            context.print(colors.bold(`${result.file} (policy ${result.policyId})`));
          }
          const mark = result.status === 'pass' ? colors.green('✓') : result.status === 'skip' ? colors.yellow('-') : colors.red('✗');
          context.print(`  ${mark} ${result.name}${result.status === 'skip' ? colors.dim(` (skipped: ${result.skipReason})`) : ''}`);
          for (const mismatch of result.mismatches)
            context.print(`      ${colors.red(mismatch)}  ${colors.dim(`${result.file}:${result.line}`)}`);
        }
        for (const problem of report.problems) context.print(`${colors.red('✗')} ${problem}`);
        const parts = [`${report.passed} passed`, `${report.failed} failed`];
        if (report.skipped) parts.push(`${report.skipped} skipped`);
        if (report.problems.length) parts.push(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
        const failed = report.failed > 0 || report.problems.length > 0;
        context.print(`\n${failed ? colors.red(parts.join(', ')) : colors.green(parts.join(', '))}`);
        return failed ? 1 : 0;
      }),
    );
}
