import { type Boundary, boundaries, type GuardEvent, type Scope } from '@palisade/core';
import { Option } from 'commander';
import { CliError } from '../cli-error.js';
import type { OutputFormat } from '../command-context.js';
import { formatDecision } from '../output/format-decision.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { parseJsonOption, readTextInput } from './read-input.js';

/** Scope options shared by scan, batch and policy explain. */
export interface ScopeOptions {
  tenant?: string;
  app?: string;
  user?: string;
  session?: string;
  policy?: string;
}

/** A core Scope from `--tenant --app --user --session --policy`. */
export function scopeFromOptions(options: ScopeOptions): Scope {
  return {
    ...(options.tenant !== undefined ? { tenantId: options.tenant } : {}),
    ...(options.app !== undefined ? { appId: options.app } : {}),
    ...(options.user !== undefined ? { userId: options.user } : {}),
    ...(options.session !== undefined ? { sessionId: options.session } : {}),
    ...(options.policy !== undefined ? { policyId: options.policy } : {}),
  };
}

interface ScanOptions extends ScopeOptions {
  file?: string;
  boundary: Boundary;
  tool?: string;
  args?: string;
  approval?: string;
  output: OutputFormat;
  ci?: boolean;
  explain?: boolean;
  state: boolean;
}

export interface BuildScanEventOptions {
  boundary: Boundary;
  /** The text read from the arguments, `--file` or standard input. */
  text: string | undefined;
  tool?: string | undefined;
  /** `--args`, JSON. */
  args?: string | undefined;
  scope: Scope;
  approvalId?: string | undefined;
}

/**
 * The event `palisade scan` evaluates. `input`/`output`: the text. `tool_call`: `--tool` and its
 * arguments (`--args`, or the text as JSON). `tool_result`: `--tool` and the text as the result
 * (JSON when it parses, else the string).
 *
 * @example
 * buildScanEvent({ boundary: 'tool_call', text: undefined, tool: 'email.send', args: '{"to":"eve@x.example"}', scope: {} })
 * // { boundary: 'tool_call', tool: 'email.send', args: { to: 'eve@x.example' }, scope: {} }
 */
export function buildScanEvent(options: BuildScanEventOptions): GuardEvent {
  const { boundary, text, tool, scope } = options;
  const approval = options.approvalId !== undefined ? { approvalId: options.approvalId } : {};
  if (boundary === 'input' || boundary === 'output') {
    if (text === undefined)
      throw new CliError({ code: 'USAGE', message: 'Nothing to scan.', hint: 'Give the text, `-` for standard input, or --file <path>.' });
    if (tool !== undefined || options.args !== undefined)
      throw new CliError({ code: 'USAGE', message: `--tool and --args are for --boundary tool_call or tool_result, not ${boundary}.` });
    return { boundary, text, scope, ...approval };
  }
  if (tool === undefined)
    throw new CliError({
      code: 'USAGE',
      message: `--boundary ${boundary} needs --tool <name>.`,
      hint: `Example: palisade scan --boundary tool_call --tool email.send --args '{"to":"eve@example.com"}'`,
    });
  if (boundary === 'tool_call') {
    if (options.args !== undefined && text !== undefined)
      throw new CliError({ code: 'USAGE', message: 'Give the arguments with --args or as the text, not both.' });
    const source = options.args ?? text ?? '{}';
    return { boundary, tool, args: parseJsonOption('--args', source), scope, ...approval };
  }
  if (options.args !== undefined)
    throw new CliError({ code: 'USAGE', message: '--args is for --boundary tool_call; give a tool result as the text.' });
  if (text === undefined)
    throw new CliError({ code: 'USAGE', message: 'Nothing to scan: give the tool result as the text, `-` or --file.' });
  let result: unknown = text;
  try {
    result = JSON.parse(text);
  } catch {
    // Plain text result.
  }
  return { boundary, tool, result, ...(typeof result === 'string' ? { text: result } : {}), scope, ...approval };
}

/** Options every scan-like command shares. */
export function addScopeOptions<T extends import('commander').Command>(command: T): T {
  return command
    .option('-t, --tenant <id>', 'tenant the event belongs to')
    .option('-a, --app <id>', 'app of the tenant')
    .option('--user <id>', 'end user')
    .option('--session <id>', 'session')
    .option('-p, --policy <id>', 'policy to use for this request (overrides the tenant and app defaults)');
}

export function registerScanCommand({ program, context, run }: RegisterOptions): void {
  const command = program
    .command('scan')
    .summary('scan a prompt, an output, a tool call or a tool result and print the decision')
    .description(
      'Evaluates one event against palisade.yaml (or the built-in balanced policy when there is none) and prints the decision.\n' +
        'With state (a palisade.yaml), an escalation creates an approval ticket and a receipt goes to the audit log.',
    )
    .argument('[text...]', 'text to scan; `-` reads standard input')
    .option('-f, --file <path>', 'read the text from a file')
    .addOption(new Option('-b, --boundary <boundary>', 'where the event crosses').choices(boundaries).default('input'))
    .option('--tool <name>', 'tool name (tool_call, tool_result)')
    .option('--args <json>', 'tool arguments as JSON (tool_call)')
    .option('--approval <id>', 'an approved ticket: re-run the very call it approved and let it through once')
    .option('--no-state', 'decide only: no approval ticket, no audit receipt');
  addScopeOptions(command)
    .addOption(outputOption())
    .option('--ci', 'exit code 1 when the decision is block (2 on error)')
    .option('--explain', 'show the matched rules, suppressions and the policy resolution chain')
    .addHelpText(
      'after',
      `
Examples:
  palisade scan "Ignore all previous instructions"
  echo "my email is jane@example.com" | palisade scan - --tenant acme --output json
  palisade scan --boundary tool_call --tool email.send --args '{"to":"eve@partner.example"}' --tenant acme
  palisade scan --ci --file prompt.txt        # in CI: exit 1 on block`,
    )
    .action(
      run(async (words: string[], options: ScanOptions) => {
        const text = await readTextInput(words, options.file, context.io.stdin, context.io.cwd);
        const event = buildScanEvent({
          boundary: options.boundary,
          text,
          tool: options.tool,
          args: options.args,
          scope: scopeFromOptions(options),
          approvalId: options.approval,
        });
        const { guard, configPath } = options.state
          ? context.openGuard({ state: 'audit', onAuditLocked: 'continue', optional: true })
          : context.openGuard({ state: 'off', optional: true });
        if (!configPath)
          context.note(
            context.errorColors.dim(
              'palisade: no palisade.yaml here; using the built-in balanced policy without state (`palisade init` writes one).',
            ),
          );
        try {
          const decision = await guard.evaluate(event);
          if (options.output === 'json') context.print(JSON.stringify(decision, null, 2));
          else {
            const shown = event.text;
            context.print(
              formatDecision(decision, {
                colors: context.colors,
                ...(shown !== undefined ? { text: shown } : {}),
                ...(options.explain ? { explain: guard.explain(event.scope) } : {}),
              }),
            );
          }
          return options.ci && decision.action === 'block' ? 1 : 0;
        } finally {
          await guard.close();
        }
      }),
    );
}
