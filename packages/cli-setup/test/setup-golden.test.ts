// Golden fixtures for `palisade setup`, one folder per case under fixtures/setup/<case>/:
//   case.json       target and options (+ platform, env, clientConfig: a file name in client/)
//   input/          the project before
//   output/         the project after, every file, compared exactly
//   client/ + client-output/   an explicit --client-config file before and after (outside the project)
//   dry-run.txt     what `--dry-run` prints (the summary and the unified diff)
// The plan is made for the virtual folder /project (planSetup is pure), then the same cases run for
// real on disk through runSetupCommand. UPDATE_GOLDEN=1 rewrites output/, client-output/ and dry-run.txt.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPlanDiff, formatPlanSummary } from '../src/setup/format-plan.js';
import { cliVersion, planSetup, type SetupInput, setupInputPaths } from '../src/setup/plan-setup.js';
import { runSetupCommand } from '../src/setup/run-setup-command.js';
import type { PackageManager, SetupLanguage, SetupPlan, SetupTarget } from '../src/setup/setup-types.js';

const fixtures = fileURLToPath(new URL('./fixtures/setup/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
const virtualCwd = '/project';
const clientDirectory = '/home/user/.config/Claude';

interface GoldenCase {
  name: string;
  target: SetupTarget;
  packageManager?: PackageManager;
  language?: SetupLanguage;
  platform?: NodeJS.Platform;
  env?: Record<string, string>;
  clientConfig?: string;
  about: string;
}

const cases: GoldenCase[] = readdirSync(fixtures)
  .filter((name) => existsSync(join(fixtures, name, 'case.json')))
  .sort()
  .map((name) => ({ name, ...(JSON.parse(readFileSync(join(fixtures, name, 'case.json'), 'utf8')) as Omit<GoldenCase, 'name'>) }));

function readTree(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  if (!existsSync(root)) return tree;
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory)) {
      const path = join(directory, entry);
      if (statSync(path).isDirectory()) walk(path);
      else tree[relative(root, path).split(sep).join('/')] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return tree;
}

function writeTree(root: string, tree: Record<string, string>): void {
  rmSync(root, { recursive: true, force: true });
  for (const [path, text] of Object.entries(tree)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

function planFor(testCase: GoldenCase, tree: Record<string, string>, clientText: string | undefined): SetupPlan {
  const files = Object.fromEntries(
    setupInputPaths(testCase.target).flatMap((path) => (tree[path] === undefined ? [] : [[path, tree[path]]])),
  );
  const input: SetupInput = {
    target: testCase.target,
    cwd: virtualCwd,
    files,
    platform: testCase.platform ?? 'linux',
    homeDir: '/home/user',
    env: testCase.env ?? {},
    palisadeVersion: '0.1.0',
    ...(testCase.packageManager ? { packageManager: testCase.packageManager } : {}),
    ...(testCase.language ? { language: testCase.language } : {}),
    ...(testCase.clientConfig ? { clientConfig: { path: `${clientDirectory}/${testCase.clientConfig}`, text: clientText } } : {}),
  };
  return planSetup(input);
}

/** Applies a plan to an in-memory tree (and the client file), the way applyPlan does on disk. */
function applyToTree(plan: SetupPlan, tree: Record<string, string>): { tree: Record<string, string>; client: string | undefined } {
  const next = { ...tree };
  let client: string | undefined;
  for (const change of plan.changes) {
    if (change.path.startsWith(`${virtualCwd}/`)) next[change.path.slice(virtualCwd.length + 1)] = change.after;
    else if (change.path.startsWith(`${clientDirectory}/`)) client = change.after;
    else throw new Error(`the plan writes ${change.path}, outside the project and the client folder`);
  }
  return { tree: next, client };
}

function dryRunText(plan: SetupPlan): string {
  return `${formatPlanSummary(plan, { stage: 'planned' })}\n${formatPlanDiff(plan)}`;
}

describe('planSetup golden fixtures', () => {
  it('has a case for every target', () => {
    expect(new Set(cases.map((testCase) => testCase.target))).toEqual(
      new Set(['langchain', 'vercel-ai', 'mcp', 'claude-desktop', 'cursor']),
    );
  });

  for (const testCase of cases) {
    describe(`${testCase.name}: ${testCase.about}`, () => {
      const directory = join(fixtures, testCase.name);
      const input = readTree(join(directory, 'input'));
      const clientBefore = testCase.clientConfig ? readFileSync(join(directory, 'client', testCase.clientConfig), 'utf8') : undefined;
      const plan = planFor(testCase, input, clientBefore);
      const after = applyToTree(plan, input);

      it('writes exactly the expected files', () => {
        if (update) {
          writeTree(join(directory, 'output'), after.tree);
          if (testCase.clientConfig && after.client !== undefined)
            writeTree(join(directory, 'client-output'), { [testCase.clientConfig]: after.client });
        }
        expect(after.tree).toEqual(readTree(join(directory, 'output')));
        if (testCase.clientConfig) {
          expect(after.client).toBe(readFileSync(join(directory, 'client-output', testCase.clientConfig), 'utf8'));
        } else {
          expect(after.client).toBeUndefined();
        }
      });

      it('prints the expected dry run', () => {
        const text = dryRunText(plan);
        if (update) writeFileSync(join(directory, 'dry-run.txt'), text);
        expect(text).toBe(readFileSync(join(directory, 'dry-run.txt'), 'utf8'));
      });

      it('plans nothing on its own output (idempotent)', () => {
        const again = planFor(testCase, after.tree, after.client ?? clientBefore);
        expect(again.changes).toEqual([]);
        expect(again.installCommand).toBeUndefined();
      });
    });
  }
});

describe('runSetupCommand on disk, over the golden cases', () => {
  const temporary: string[] = [];
  afterAll(() => {
    for (const directory of temporary) rmSync(directory, { recursive: true, force: true });
  });

  // The explicit client config case writes outside the project; it has its own test in setup-command.test.ts.
  for (const testCase of cases.filter((each) => !each.clientConfig && (each.platform ?? 'linux') === 'linux')) {
    it(`${testCase.name}: writes the golden output, then changes nothing on a second run`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'palisade-setup-golden-'));
      temporary.push(root);
      const project = join(root, 'project');
      await mkdir(project);
      cpSync(join(fixtures, testCase.name, 'input'), project, { recursive: true });
      const expected = Object.fromEntries(
        Object.entries(readTree(join(fixtures, testCase.name, 'output'))).map(([path, text]) => [
          path,
          // The goldens pin version 0.1.0 and the folder /project; on disk they are this CLI's version and a temp folder.
          text.replaceAll(virtualCwd, project).replaceAll('@0.1.0', `@${cliVersion()}`).replaceAll('"^0.1.0"', `"^${cliVersion()}"`),
        ]),
      );

      const dry = await run(testCase, project, true);
      expect(dry.code).toBe(0);
      expect(readTree(project)).toEqual(readTree(join(fixtures, testCase.name, 'input')));
      expect(dry.stdout).toContain('Dry run: nothing was written.');

      const first = await run(testCase, project, false);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(readTree(project)).toEqual(expected);

      const second = await run(testCase, project, false);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('Nothing to change');
      expect(readTree(project)).toEqual(expected);
    });
  }
});

async function run(testCase: GoldenCase, cwd: string, dryRun: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  const code = await runSetupCommand({
    target: testCase.target,
    cwd,
    dryRun,
    yes: true,
    stdout,
    stderr,
    env: {},
    ...(testCase.packageManager ? { packageManager: testCase.packageManager } : {}),
    ...(testCase.language ? { language: testCase.language } : {}),
  });
  return { code, stdout: out, stderr: err };
}
