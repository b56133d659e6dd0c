import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { type CompiledConfig, createGuard, createScanner, type Guard, type Scanner } from '@palisade/core';
import type { ConformanceCase, ConformanceEvaluate, ConformanceResult, RunConformanceCaseOptions } from '@palisade/core/test';

/**
 * The folder beside palisade.yaml that holds each policy's example cases: `policy-tests/<policy id>.yaml`.
 *
 * @example
 * policyTestsDirectory('/srv/app/palisade.yaml') // '/srv/app/policy-tests'
 */
export function policyTestsDirectory(configPath: string): string {
  return join(dirname(configPath), 'policy-tests');
}

/** The outcome of one example case. */
export interface PolicyTestResult {
  /** The file, relative to the tests folder (`support.yaml`). */
  file: string;
  policyId: string;
  name: string;
  line: number;
  status: 'pass' | 'fail' | 'skip';
  /** For `fail`: what differed (`action: expected "block", got "flag"`). */
  mismatches: string[];
  /** For `skip`: why the case is not run. */
  skipReason?: string;
}

export interface PolicyTestReport {
  directory: string;
  files: string[];
  results: PolicyTestResult[];
  /** Files or cases that could not be read: `file:line: problem`. */
  problems: string[];
  passed: number;
  failed: number;
  skipped: number;
}

export interface RunPolicyTestsOptions {
  configPath: string;
  compiled: CompiledConfig;
  env?: Readonly<Record<string, string | undefined>>;
  /** Only these policies' files. Default: every file. */
  policies?: readonly string[];
}

interface ConformanceModule {
  parseConformanceFile(file: string, text: string, problems: string[]): ConformanceCase[];
  runConformanceCase(
    testCase: ConformanceCase,
    evaluate: ConformanceEvaluate,
    options?: RunConformanceCaseOptions,
  ): Promise<ConformanceResult>;
}

/** The conformance runner of @palisade/core, loaded when a policy test runs (it brings zod). */
async function loadConformanceRunner(): Promise<ConformanceModule> {
  return (await import('@palisade/core/test')) as ConformanceModule;
}

/**
 * Runs each policy's example cases: `policy-tests/<policy id>.yaml` beside palisade.yaml, in the
 * format of core's conformance corpus (`cases: [{ name, event, expect }]`). A case without
 * `config` runs against palisade.yaml itself, with the file's policy as the request's policy
 * unless the case's `event.scope.policyId` names another; a case with `config` runs against
 * that configuration. Guards keep no state, so nothing is written.
 *
 * @example
 * const report = await runPolicyTests({ configPath, compiled });
 * process.exitCode = report.failed > 0 || report.problems.length > 0 ? 1 : 0;
 */
export async function runPolicyTests(options: RunPolicyTestsOptions): Promise<PolicyTestReport> {
  const directory = policyTestsDirectory(options.configPath);
  const report: PolicyTestReport = { directory, files: [], results: [], problems: [], passed: 0, failed: 0, skipped: 0 };
  if (!existsSync(directory)) return report;
  const wanted = options.policies && options.policies.length > 0 ? new Set(options.policies) : undefined;
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .filter((name) => !wanted || wanted.has(basename(name, extname(name))))
    .sort();
  if (files.length === 0) return report;
  const runner = await loadConformanceRunner();

  const scannerSettings = options.compiled.scanner;
  let fileScanner: Scanner | undefined;
  let sharedScanner: Scanner | undefined;
  const guards = new Map<string, Guard>();
  const guardFor = (config: Record<string, unknown>, now: number | undefined): Guard => {
    const own = Object.keys(config).length === 0;
    const key = `${own ? 'palisade.yaml' : JSON.stringify(config)}@${now ?? 'now'}`;
    let guard = guards.get(key);
    if (guard) return guard;
    const clock = now !== undefined ? { now: () => now } : {};
    if (own) {
      fileScanner ??= createScanner({
        ...(scannerSettings.disabled_rules ? { disabledRules: scannerSettings.disabled_rules } : {}),
        ...(scannerSettings.max_input_length ? { maxInputLength: scannerSettings.max_input_length } : {}),
        ...(scannerSettings.oversize ? { oversize: scannerSettings.oversize } : {}),
      });
      guard = createGuard({
        configPath: options.configPath,
        ...(options.env ? { env: options.env } : {}),
        state: false,
        scanner: fileScanner,
        ...clock,
      });
    } else {
      // A configuration that tunes the scanner gets its own; the others share the shipped packs.
      if (config.scanner === undefined) sharedScanner ??= createScanner();
      guard = createGuard({
        config,
        state: false,
        ...(config.scanner === undefined && sharedScanner ? { scanner: sharedScanner } : {}),
        ...clock,
      });
    }
    guards.set(key, guard);
    return guard;
  };

  try {
    for (const file of files) {
      const policyId = basename(file, extname(file));
      report.files.push(file);
      if (!options.compiled.policies.has(policyId)) {
        report.problems.push(
          `${file}: there is no policy "${policyId}" (the file name names the policy its cases test; known: ${[...options.compiled.policies.keys()].join(', ')})`,
        );
        continue;
      }
      const cases = runner.parseConformanceFile(file, readFileSync(join(directory, file), 'utf8'), report.problems);
      for (const testCase of cases) {
        const result = await runner.runConformanceCase(testCase, async ({ config, event, now }) => {
          const own = Object.keys(config).length === 0;
          const scoped = own ? { ...event, scope: { policyId, ...event.scope } } : event;
          return guardFor(config, now).evaluate(scoped);
        });
        const base = { file, policyId, name: testCase.name, line: testCase.line };
        if (!result.ok) {
          report.results.push({ ...base, status: 'fail', mismatches: result.mismatches });
          report.failed++;
        } else if (result.skipped !== undefined) {
          report.results.push({ ...base, status: 'skip', mismatches: [], skipReason: result.skipped });
          report.skipped++;
        } else {
          report.results.push({ ...base, status: 'pass', mismatches: [] });
          report.passed++;
        }
      }
    }
  } finally {
    await Promise.all([...guards.values()].map((guard) => guard.close()));
  }
  return report;
}
