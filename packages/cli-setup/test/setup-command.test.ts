import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../src/setup/apply-plan.js';
import { planSetup, setupInputPaths } from '../src/setup/plan-setup.js';
import { readProjectFiles } from '../src/setup/read-project-files.js';
import { type RunSetupCommandOptions, runSetupCommand, setupExitCodes } from '../src/setup/run-setup-command.js';
import { SetupError } from '../src/setup/setup-error.js';

let root: string;
let project: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'palisade-setup-command-'));
  project = join(root, 'project');
  mkdirSync(project);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

async function setup(options: Partial<RunSetupCommandOptions> & Pick<RunSetupCommandOptions, 'target'>) {
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
  const code = await runSetupCommand({ cwd: project, yes: true, stdout, stderr, env: {}, ...options });
  return { code, stdout: out, stderr: err };
}

function listFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

const read = (path: string) => readFileSync(path, 'utf8');

describe('runSetupCommand --client-config', () => {
  it('patches a client config outside the folder, keeps its servers, keys and mode, and backs it up once', async () => {
    const clientDirectory = join(root, 'home', 'Claude');
    mkdirSync(clientDirectory, { recursive: true });
    const client = join(clientDirectory, 'claude_desktop_config.json');
    const original =
      '{\n  "globalShortcut": "Ctrl+Space",\n  "mcpServers": {\n    "fs": { "command": "fs-mcp", "args": ["/data"] }\n  }\n}\n';
    writeFileSync(client, original);
    chmodSync(client, 0o600);

    const dry = await setup({ target: 'claude-desktop', clientConfig: client, dryRun: true });
    expect(dry.code).toBe(setupExitCodes.ok);
    expect(dry.stdout).toContain(`--- ${client}\n+++ ${client}\n`);
    expect(read(client)).toBe(original);
    expect(listFiles(project)).toEqual([]);

    const first = await setup({ target: 'claude-desktop', clientConfig: client });
    expect(first).toMatchObject({ code: setupExitCodes.ok, stderr: '' });
    expect(first.stdout).toContain('(backup kept)');
    const patched = JSON.parse(read(client));
    expect(patched.globalShortcut).toBe('Ctrl+Space');
    expect(patched.mcpServers.fs).toEqual({ command: 'fs-mcp', args: ['/data'] });
    expect(patched.mcpServers.palisade.args).toEqual(expect.arrayContaining(['serve', '--config', join(project, 'palisade.yaml')]));
    expect(read(client)).toContain('"fs": { "command": "fs-mcp", "args": ["/data"] },');
    expect(statSync(client).mode & 0o777).toBe(0o600);
    expect(read(`${client}.palisade-backup`)).toBe(original);
    // No snippet: the real file was patched instead.
    expect(listFiles(project)).toEqual(['.gitignore', 'palisade.yaml']);

    const second = await setup({ target: 'claude-desktop', clientConfig: client });
    expect(second.code).toBe(setupExitCodes.ok);
    expect(second.stdout).toContain('Nothing to change');
    expect(readdirSync(clientDirectory).sort()).toEqual(['claude_desktop_config.json', 'claude_desktop_config.json.palisade-backup']);
  });

  it('creates a client config that does not exist yet, without a backup', async () => {
    const client = join(root, 'elsewhere', 'mcp.json');
    const result = await setup({ target: 'mcp', clientConfig: client });
    expect(result.code).toBe(setupExitCodes.ok);
    expect(JSON.parse(read(client)).mcpServers.palisade.command).toBe('npx');
    expect(readdirSync(join(root, 'elsewhere'))).toEqual(['mcp.json']);
  });

  it('keeps a second backup beside an older one instead of overwriting it', async () => {
    const client = join(root, 'claude.json');
    writeFileSync(client, '{}');
    writeFileSync(`${client}.palisade-backup`, 'an older backup');
    expect((await setup({ target: 'claude-desktop', clientConfig: client })).code).toBe(setupExitCodes.ok);
    expect(read(`${client}.palisade-backup`)).toBe('an older backup');
    expect(read(`${client}.palisade-backup-2`)).toBe('{}');
  });

  it('refuses --client-config for a framework target, and a folder as client config (exit 2)', async () => {
    const framework = await setup({ target: 'langchain', clientConfig: join(root, 'c.json') });
    expect(framework.code).toBe(setupExitCodes.usage);
    expect(framework.stderr).toContain('--client-config is for the MCP targets');
    const folder = await setup({ target: 'claude-desktop', clientConfig: root });
    expect(folder.code).toBe(setupExitCodes.usage);
    expect(folder.stderr).toContain('is a folder');
    expect(listFiles(project)).toEqual([]);
  });
});

describe('runSetupCommand never writes outside the folder', () => {
  it('refuses a symlinked folder that leads out, and writes nothing at all', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(project, '.cursor'));
    const result = await setup({ target: 'cursor' });
    expect(result.code).toBe(setupExitCodes.failed);
    expect(result.stderr).toContain(`really ${join(outside, 'mcp.json')}`);
    expect(result.stderr).toContain('outside the target folder');
    expect(readdirSync(outside)).toEqual([]);
    expect(listFiles(project)).toEqual(['.cursor']);
  });

  it('refuses a symlinked file that leads out', async () => {
    const outside = join(root, 'global-gitignore');
    writeFileSync(outside, 'node_modules\n');
    symlinkSync(outside, join(project, '.gitignore'));
    const result = await setup({ target: 'mcp' });
    expect(result.code).toBe(setupExitCodes.failed);
    expect(read(outside)).toBe('node_modules\n');
    expect(existsSync(join(project, 'palisade.yaml'))).toBe(false);
  });

  it('refuses a plan whose change points outside the folder, before writing anything', async () => {
    const plan = planSetup({ target: 'mcp', cwd: project, files: {} });
    plan.changes.push({ ...plan.changes[0]!, path: join(root, 'evil.txt'), displayPath: '../evil.txt' });
    await expect(applyPlan(plan)).rejects.toMatchObject({ code: 'PATH_OUTSIDE_TARGET' });
    expect(listFiles(root)).toEqual([]);
  });
});

describe('runSetupCommand failures', () => {
  it('reports a broken client config with file, line and column, and writes nothing', async () => {
    mkdirSync(join(project, '.cursor'));
    writeFileSync(join(project, '.cursor', 'mcp.json'), '{\n  "mcpServers": {},\n}\n');
    const result = await setup({ target: 'cursor' });
    expect(result.code).toBe(setupExitCodes.failed);
    expect(result.stderr).toContain(`${join(project, '.cursor', 'mcp.json')}:3:1`);
    expect(listFiles(project)).toEqual(['.cursor/mcp.json']);
  });

  it.each([
    [{ target: 'django' as never }, 'Unknown setup target'],
    [{ target: 'langchain' as const, packageManager: 'pip' as never }, 'Unknown package manager'],
    [{ target: 'langchain' as const, language: 'py' as never }, 'Unknown language'],
  ])('exits 2 on bad arguments (%j)', async (options, message) => {
    const result = await setup(options);
    expect(result.code).toBe(setupExitCodes.usage);
    expect(result.stderr).toContain(message);
  });

  it('exits 2 when the folder does not exist', async () => {
    const result = await setup({ target: 'mcp', cwd: join(root, 'missing') });
    expect(result.code).toBe(setupExitCodes.usage);
    expect(existsSync(join(root, 'missing'))).toBe(false);
  });

  it('refuses to write over a file that changed after the plan was made', async () => {
    writeFileSync(join(project, '.gitignore'), 'node_modules\n');
    const plan = planSetup({ target: 'mcp', cwd: project, files: await readProjectFiles(project, setupInputPaths('mcp')) });
    writeFileSync(join(project, '.gitignore'), 'node_modules\ndist\n');
    const error = await applyPlan(plan).catch((caught: unknown) => caught);
    expect(SetupError.isInstance(error) && error.code).toBe('PLAN_OUT_OF_DATE');
    expect(listFiles(project)).toEqual(['.gitignore']);
  });

  it('names what was already written when a write fails part way', async () => {
    writeFileSync(join(project, 'package.json'), '{"type":"module"}');
    writeFileSync(join(project, 'src'), 'a file where the src folder should be');
    const result = await setup({ target: 'langchain' });
    expect(result.code).toBe(setupExitCodes.failed);
    expect(result.stderr).toContain(`Writing ${join(project, 'src', 'palisade.js')} failed`);
    expect(result.stderr).toContain(`already written: ${join(project, 'palisade.yaml')}`);
    // Whole files only: no temporary file is left behind.
    expect(listFiles(project).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a broken package.json for a framework target and writes nothing', async () => {
    writeFileSync(join(project, 'package.json'), '{ "name": "x", }');
    const result = await setup({ target: 'vercel-ai' });
    expect(result.code).toBe(setupExitCodes.failed);
    expect(result.stderr).toContain('package.json:1:');
    expect(listFiles(project)).toEqual(['package.json']);
  });
});

describe('runSetupCommand output', () => {
  it('prints the plan as a unified diff on --dry-run and writes nothing', async () => {
    writeFileSync(join(project, 'package.json'), '{\n  "name": "bot",\n  "type": "module"\n}\n');
    writeFileSync(join(project, 'pnpm-lock.yaml'), '');
    const result = await setup({ target: 'langchain', dryRun: true });
    expect(result.code).toBe(setupExitCodes.ok);
    expect(result.stdout).toContain('Detected: pnpm (pnpm-lock.yaml), JavaScript (default), ES modules');
    expect(result.stdout).toContain('--- a/package.json\n+++ b/package.json\n');
    expect(result.stdout).toContain('--- /dev/null\n+++ b/src/palisade.js\n');
    expect(result.stdout).toContain('Install the new dependencies: pnpm install');
    expect(result.stdout).toContain('Dry run: nothing was written.');
    expect(listFiles(project)).toEqual(['package.json', 'pnpm-lock.yaml']);
  });

  it('prints the install command of the package manager it was told to use', async () => {
    const result = await setup({ target: 'vercel-ai', packageManager: 'bun', language: 'ts' });
    expect(result.code).toBe(setupExitCodes.ok);
    expect(result.stdout).toContain('bun install');
    expect(listFiles(project)).toEqual(['.gitignore', 'package.json', 'palisade.yaml', 'src/palisade-example.ts', 'src/palisade.ts']);
  });

  it('leaves a generated file the user edited, and says so', async () => {
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'palisade.js'), '// my own wiring\n');
    const result = await setup({ target: 'langchain', language: 'js' });
    expect(result.code).toBe(setupExitCodes.ok);
    expect(read(join(project, 'src', 'palisade.js'))).toBe('// my own wiring\n');
    expect(result.stdout).toContain('src/palisade.js exists and differs');
  });
});
