import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  type CompiledConfig,
  compileConfig,
  createScanner,
  InvalidConfigError,
  loadConfig,
  openSqliteStore,
  PalisadeError,
  parseSection,
  verifyAudit,
} from '@palisade/core';
import type { ConfigLocation } from '../config/resolve-config-path.js';

/** One check of `palisade doctor`. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** For a failed check: what to do. */
  hint?: string;
}

export interface RunDoctorOptions {
  config: ConfigLocation;
  env: Readonly<Record<string, string | undefined>>;
  /** Node.js version to check (default: this process's). */
  nodeVersion?: string;
  /** Minimum Node.js version (default 20.19.0, as package.json `engines` says). */
  minimumNode?: string;
}

function compareVersions(left: string, right: string): number {
  const a = left.split('.').map(Number);
  const b = right.split('.').map(Number);
  for (let index = 0; index < 3; index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

const message = (error: unknown) => (error instanceof Error ? (error.message.split('\nHint:')[0] ?? error.message) : String(error));
const hintOf = (error: unknown) => (PalisadeError.isInstance(error) ? error.hint : undefined);

/** Whether `folder` (or, when it does not exist yet, the nearest folder above it) is writable. */
function writable(folder: string): { ok: boolean; where: string } {
  let at = folder;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    accessSync(at, constants.W_OK);
    return { ok: true, where: at };
  } catch {
    return { ok: false, where: at };
  }
}

/**
 * The checks of `palisade doctor`, in order: Node.js version, configuration valid (with the real
 * environment), rule packs loaded, state store writable and readable, audit chain intact. A check
 * that cannot run because an earlier one failed is reported failed with the reason. Reads only:
 * it creates no state (an absent store or audit log is reported as "created on first use").
 *
 * @example
 * const checks = await runDoctor({ config: resolveConfigPath({ env: process.env, cwd: process.cwd() }), env: process.env });
 * const healthy = checks.every((check) => check.ok);
 */
export async function runDoctor(options: RunDoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  const minimum = options.minimumNode ?? '20.19.0';
  checks.push(
    compareVersions(nodeVersion, minimum) >= 0
      ? { name: 'Node.js', ok: true, detail: `${nodeVersion} (>= ${minimum})` }
      : { name: 'Node.js', ok: false, detail: `${nodeVersion} is older than ${minimum}`, hint: `Install Node.js ${minimum} or newer.` },
  );

  let compiled: CompiledConfig | undefined;
  const configPath = options.config.path;
  if (!options.config.exists) {
    checks.push({
      name: 'configuration',
      ok: false,
      detail: `no file at ${configPath}`,
      hint: 'Run `palisade init`, or point to yours with --config or PALISADE_CONFIG.',
    });
  } else {
    try {
      const loaded = loadConfig({ path: configPath, env: options.env });
      compiled = compileConfig(loaded);
      checks.push({
        name: 'configuration',
        ok: true,
        detail: `${configPath}: ${loaded.files.length} file${loaded.files.length === 1 ? '' : 's'}, ${Object.keys(loaded.config.policies).length} policies, ${compiled.tenants.size} tenants (version ${compiled.version})`,
      });
    } catch (error) {
      const issues = InvalidConfigError.isInstance(error)
        ? error.issues.map(
            (issue) => `${issue.file}:${issue.line ?? '?'}:${issue.column ?? '?'} at ${issue.path || '(root)'}: ${issue.message}`,
          )
        : [message(error)];
      checks.push({
        name: 'configuration',
        ok: false,
        detail: issues.join('\n'),
        hint: 'Fix the problems listed (`palisade policy validate` shows them too).',
      });
    }
  }

  try {
    const scanner = createScanner({
      ...(compiled?.scanner.disabled_rules ? { disabledRules: compiled.scanner.disabled_rules } : {}),
    });
    const counts = Object.entries(scanner.ruleCounts)
      .filter(([, count]) => count > 0)
      .map(([family, count]) => `${family} ${count}`)
      .join(', ');
    checks.push(
      scanner.rules.length > 0
        ? { name: 'rule packs', ok: true, detail: `${scanner.rules.length} rules loaded (${counts})` }
        : { name: 'rule packs', ok: false, detail: 'no rules loaded', hint: 'Check scanner.disabled_rules, or reinstall @palisade/core.' },
    );
  } catch (error) {
    checks.push({ name: 'rule packs', ok: false, detail: message(error), hint: hintOf(error) ?? 'Reinstall @palisade/core.' });
  }

  if (!compiled) {
    const detail = options.config.exists ? 'not checked: the configuration is invalid' : 'not checked: no configuration';
    checks.push({ name: 'state store', ok: false, detail, hint: 'Fix the configuration first.' });
    checks.push({ name: 'audit log', ok: false, detail, hint: 'Fix the configuration first.' });
    return checks;
  }

  const base = dirname(configPath);
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const store = parseSection('store', compiled.raw.store);
  const audit = parseSection('audit', compiled.raw.audit);
  let index: Awaited<ReturnType<typeof openSqliteStore>> | undefined;
  if (store.kind === 'memory') {
    checks.push({ name: 'state store', ok: true, detail: 'in memory (store.kind: memory): nothing survives a restart' });
  } else {
    const path = at(store.path);
    const folder = writable(dirname(path));
    if (!folder.ok) {
      checks.push({
        name: 'state store',
        ok: false,
        detail: `${folder.where} is not writable`,
        hint: `Give this user write access to ${folder.where}, or set store.path.`,
      });
    } else if (!existsSync(path)) {
      checks.push({ name: 'state store', ok: true, detail: `${path} (created on first use)` });
    } else {
      try {
        accessSync(path, constants.R_OK | constants.W_OK);
        index = openSqliteStore({ path });
        await index.auditHead();
        const key =
          store.vault_key !== undefined
            ? 'seal key from store.vault_key'
            : existsSync(at(store.vault_key_file))
              ? `seal key ${at(store.vault_key_file)}`
              : 'seal key created on first use';
        checks.push({ name: 'state store', ok: true, detail: `${path}: writable, schema current; ${key}` });
      } catch (error) {
        checks.push({
          name: 'state store',
          ok: false,
          detail: `${path}: ${message(error)}`,
          hint: hintOf(error) ?? `Check the permissions of ${path}.`,
        });
      }
    }
  }

  try {
    const directory = at(audit.directory);
    if (!audit.enabled) checks.push({ name: 'audit log', ok: true, detail: 'off (audit.enabled: false): decisions leave no receipt' });
    else if (!existsSync(directory)) {
      const folder = writable(directory);
      checks.push(
        folder.ok
          ? { name: 'audit log', ok: true, detail: `${directory} (created on first use)` }
          : {
              name: 'audit log',
              ok: false,
              detail: `${folder.where} is not writable`,
              hint: `Give this user write access to ${folder.where}, or set audit.directory.`,
            },
      );
    } else {
      const result = await verifyAudit({ directory, ...(index ? { index } : {}) });
      const lock = join(directory, 'audit.lock');
      let holder = '';
      if (existsSync(lock)) {
        try {
          const { pid } = JSON.parse(readFileSync(lock, 'utf8')) as { pid?: number };
          holder = pid !== undefined ? `; written by process ${pid}` : '';
        } catch {
          // A lock being written right now.
        }
      }
      const problem = result.firstProblem;
      checks.push(
        result.ok
          ? { name: 'audit log', ok: true, detail: `${directory}: ${result.receipts} receipts, hash chain intact${holder}` }
          : {
              name: 'audit log',
              ok: false,
              detail: `${directory}: broken after seq ${result.lastSeq}${problem ? ` at ${problem.file}:${problem.line}: ${problem.problem}` : ''}`,
              hint: 'The log was changed or damaged; keep a copy for investigation (`palisade audit verify` shows the first broken link).',
            },
      );
    }
  } catch (error) {
    checks.push({ name: 'audit log', ok: false, detail: message(error), hint: hintOf(error) ?? 'Check the audit directory.' });
  } finally {
    await index?.close();
  }
  return checks;
}
