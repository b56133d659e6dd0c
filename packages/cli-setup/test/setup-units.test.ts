import { loadConfig } from '@palisade/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDependencies } from '../src/setup/add-dependencies.js';
import { detectProject } from '../src/setup/detect-project.js';
import { setJsonValue } from '../src/setup/json-edit.js';
import { claudeDesktopConfigPath, mcpServerEntry } from '../src/setup/mcp-server-entry.js';
import { patchMcpConfig } from '../src/setup/patch-mcp-config.js';
import { planSetup } from '../src/setup/plan-setup.js';
import { folderTemplates, renderTemplate, templatesDirectory } from '../src/setup/render-template.js';
import { resolveInside } from '../src/setup/resolve-inside.js';
import { SetupError, type SetupErrorCode } from '../src/setup/setup-error.js';
import { unifiedDiff } from '../src/setup/unified-diff.js';

function setupError(run: () => unknown): SetupError {
  try {
    run();
  } catch (error) {
    if (SetupError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a SetupError');
}

function expectCode(run: () => unknown, code: SetupErrorCode): SetupError {
  const error = setupError(run);
  expect(error.code).toBe(code);
  return error;
}

const entry = mcpServerEntry({ mcpPackage: '@palisade/mcp-server@0.1.0', configPath: '/srv/app/palisade.yaml', tenantId: 'default' });

describe('resolveInside', () => {
  it('resolves a relative path inside the folder', () => {
    expect(resolveInside('/srv/app', 'src/palisade.ts')).toBe('/srv/app/src/palisade.ts');
    expect(resolveInside('/srv/app', './a/../b')).toBe('/srv/app/b');
  });

  it('accepts a name that merely starts with two dots', () => {
    expect(resolveInside('/srv/app', '..palisade')).toBe('/srv/app/..palisade');
  });

  it.each(['../etc/passwd', '/etc/passwd', 'src/../../x', '..'])('refuses %s, which leaves the folder', (path) => {
    const error = expectCode(() => resolveInside('/srv/app', path), 'PATH_OUTSIDE_TARGET');
    expect(error.message).toContain('/srv/app');
  });
});

describe('templates', () => {
  it('fills every placeholder', () => {
    expect(renderTemplate('a {{x}} b {{ y }}', { x: '1', y: '2' }, 't')).toBe('a 1 b 2');
  });

  it('refuses a template that asks for a value setup does not give', () => {
    const error = expectCode(() => renderTemplate('tenant: {{tenant}}', {}, 'palisade.yaml.tmpl'), 'INVALID_TEMPLATE');
    expect(error.message).toContain('{{tenant}}');
  });

  it('refuses a template name that leaves the templates folder', () => {
    expectCode(() => folderTemplates(templatesDirectory)('../package.json'), 'INVALID_TEMPLATE');
    expectCode(() => folderTemplates(templatesDirectory)('/etc/passwd'), 'INVALID_TEMPLATE');
  });

  it('reports a missing template as a typed error', () => {
    expectCode(() => folderTemplates(templatesDirectory)('langchain/nope.ts.tmpl'), 'INVALID_TEMPLATE');
  });

  it('fails the plan, not the disk, when a template is broken', () => {
    const templates = (name: string) => (name === 'palisade.yaml.tmpl' ? 'x: {{missing}}' : folderTemplates(templatesDirectory)(name));
    expectCode(() => planSetup({ target: 'mcp', cwd: '/project', files: {}, templates, palisadeVersion: '0.1.0' }), 'INVALID_TEMPLATE');
  });

  it('writes a palisade.yaml that the core accepts, with the tenant the wiring names', () => {
    const plan = planSetup({
      target: 'langchain',
      cwd: '/project',
      files: { 'package.json': '{"name":"@acme/bot","type":"module"}' },
      palisadeVersion: '0.1.0',
    });
    const yaml = plan.changes.find((change) => change.displayPath === 'palisade.yaml')!.after;
    const loaded = loadConfig({ text: yaml, path: '/project/palisade.yaml', env: {} });
    expect(Object.keys(loaded.config.tenants)).toEqual(['default']);
    expect(loaded.config.tenants.default?.name).toBe('@acme/bot');
    expect(loaded.config.policies.app?.extends).toBe('balanced');
    const wiring = plan.changes.find((change) => change.displayPath === 'src/palisade.js')!.after;
    expect(wiring).toContain("scope: { tenantId: 'default' }");
  });
});

describe('detectProject', () => {
  const detect = (files: Record<string, string>, options = {}) =>
    detectProject(files, options, files['package.json'] ? (JSON.parse(files['package.json']) as Record<string, unknown>) : undefined);

  it('takes the package manager from the packageManager field over a lockfile', () => {
    expect(detect({ 'package.json': '{"packageManager":"yarn@4.5.0"}', 'pnpm-lock.yaml': '' })).toMatchObject({
      packageManager: 'yarn',
      packageManagerSource: 'package.json#packageManager',
    });
  });

  it.each([
    ['pnpm-lock.yaml', 'pnpm'],
    ['yarn.lock', 'yarn'],
    ['bun.lockb', 'bun'],
    ['bun.lock', 'bun'],
    ['package-lock.json', 'npm'],
  ])('reads %s as %s', (lockfile, manager) => {
    expect(detect({ [lockfile]: '' })).toMatchObject({ packageManager: manager, packageManagerSource: lockfile });
  });

  it('defaults to npm and JavaScript, and an explicit option wins', () => {
    expect(detect({})).toMatchObject({ packageManager: 'npm', packageManagerSource: 'default', language: 'js', languageSource: 'default' });
    expect(detect({ 'tsconfig.json': '{}', 'yarn.lock': '' }, { packageManager: 'bun', language: 'js' })).toMatchObject({
      packageManager: 'bun',
      language: 'js',
      languageSource: 'option',
    });
  });

  it('takes TypeScript from tsconfig.json or a typescript dependency', () => {
    expect(detect({ 'tsconfig.json': '{}' })).toMatchObject({ language: 'ts', languageSource: 'tsconfig.json' });
    expect(detect({ 'package.json': '{"devDependencies":{"typescript":"5"}}' })).toMatchObject({
      language: 'ts',
      languageSource: 'typescript dependency',
    });
  });

  it('reads the module type from package.json', () => {
    expect(detect({ 'package.json': '{"type":"module"}' }).moduleType).toBe('module');
    expect(detect({ 'package.json': '{}' }).moduleType).toBe('commonjs');
  });
});

describe('addDependencies', () => {
  const file = '/project/package.json';
  const add = (text: string | undefined, names: string[]) =>
    addDependencies({ text, file, packageName: 'app', dependencies: names.map((name) => ({ name, version: '^1.0.0' })) });

  it('keeps tabs, CRLF line ends and the missing final newline', () => {
    const text = '{\r\n\t"name": "app"\r\n}';
    expect(add(text, ['b']).text).toBe('{\r\n\t"name": "app",\r\n\t"dependencies": {\r\n\t\t"b": "^1.0.0"\r\n\t}\r\n}');
  });

  it('leaves a dependency the project already has, in any field and at any version', () => {
    const text = '{\n  "devDependencies": { "zod": "3.0.0" },\n  "peerDependencies": { "ai": "*" }\n}\n';
    const result = add(text, ['zod', 'ai']);
    expect(result.added).toEqual([]);
    expect(result.text).toBe(text);
  });

  it('sorts a sorted map and appends to a hand-ordered one', () => {
    expect(Object.keys(JSON.parse(add('{"dependencies":{"a":"1","c":"1"}}', ['b', '@x/y']).text).dependencies)).toEqual([
      '@x/y',
      'a',
      'b',
      'c',
    ]);
    expect(Object.keys(JSON.parse(add('{"dependencies":{"c":"1","a":"1"}}', ['d', 'b']).text).dependencies)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('creates an ES-module package.json when there is none', () => {
    expect(JSON.parse(add(undefined, ['x']).text)).toEqual({ name: 'app', private: true, type: 'module', dependencies: { x: '^1.0.0' } });
  });

  it('says where package.json is broken', () => {
    const error = expectCode(() => add('{\n  "name": "app",\n}\n', ['x']), 'INVALID_PROJECT_FILE');
    expect(error.message).toMatch(/\/project\/package\.json:3:1/);
    expectCode(() => add('{"dependencies": []}', ['x']), 'INVALID_PROJECT_FILE');
    expectCode(() => add('[1]', ['x']), 'INVALID_PROJECT_FILE');
  });
});

describe('patchMcpConfig', () => {
  const file = '/home/user/claude_desktop_config.json';
  const patch = (text: string | undefined) => patchMcpConfig({ text, file, server: 'palisade', entry });

  it('adds the server and keeps every other server and key byte for byte', () => {
    const text = '{\n  "theme": "dark",\n  "mcpServers": {\n    "fs": { "command": "fs", "args": ["/a", "/b"] }\n  }\n}\n';
    const patched = patch(text);
    expect(
      patched.startsWith(
        '{\n  "theme": "dark",\n  "mcpServers": {\n    "fs": { "command": "fs", "args": ["/a", "/b"] },\n    "palisade": {',
      ),
    ).toBe(true);
    expect(JSON.parse(patched)).toEqual({ theme: 'dark', mcpServers: { fs: { command: 'fs', args: ['/a', '/b'] }, palisade: entry } });
  });

  it('returns the very same text when the entry is already there (idempotent)', () => {
    const once = patch('{"mcpServers":{"fs":{"command":"fs"}}}');
    expect(patch(once)).toBe(once);
    const reordered = JSON.stringify({ mcpServers: { palisade: { args: entry.args, command: entry.command } } });
    expect(patch(reordered)).toBe(reordered);
  });

  it('updates an outdated entry and keeps the keys the user added to it', () => {
    const text = JSON.stringify({ mcpServers: { palisade: { command: 'node', args: ['old.js'], env: { A: '1' } } } }, null, 2);
    expect(JSON.parse(patch(text)).mcpServers.palisade).toEqual({ ...entry, env: { A: '1' } });
  });

  it('creates the mcpServers map, and the file, when missing', () => {
    expect(JSON.parse(patch('{ "x": 1 }'))).toEqual({ x: 1, mcpServers: { palisade: entry } });
    expect(JSON.parse(patch('{}'))).toEqual({ mcpServers: { palisade: entry } });
    expect(JSON.parse(patch(''))).toEqual({ mcpServers: { palisade: entry } });
    expect(patch(undefined)).toBe(`${JSON.stringify({ mcpServers: { palisade: entry } }, null, 2)}\n`);
  });

  it('refuses a file that is not JSON, or whose mcpServers is not an object, saying where', () => {
    const error = expectCode(() => patch('{\n  // comment\n  "mcpServers": {}\n}'), 'INVALID_PROJECT_FILE');
    expect(error.message).toContain(file);
    expect(error.hint).toContain('left untouched');
    expectCode(() => patch('{"mcpServers": ["palisade"]}'), 'INVALID_PROJECT_FILE');
  });
});

describe('setJsonValue', () => {
  const value = { a: [1, 2], b: 'x' };
  const cases = [
    '{}',
    '{"k":1}',
    '{\n\t"k": 1\n}',
    '{ "servers": { "a": 1 }, "z": [ {"q": "}"} ] }',
    '{\r\n  "servers": {\r\n    "p": "old\\"quoted"\r\n  }\r\n}\r\n',
    '\uFEFF{"servers": {}}',
  ];
  it.each(cases)('sets servers.p in %j and changes nothing else', (text) => {
    const body = text.replace(/^\uFEFF/, '');
    const edited = setJsonValue(text, ['servers', 'p'], value, '  ', text.includes('\r\n') ? '\r\n' : '\n');
    const parsed = JSON.parse(edited.replace(/^\uFEFF/, ''));
    const original = JSON.parse(body);
    expect(parsed).toEqual({ ...original, servers: { ...(original.servers ?? {}), p: value } });
    expect(edited.startsWith('\uFEFF')).toBe(text.startsWith('\uFEFF'));
  });

  it('agrees with JSON.parse on any object (property)', () => {
    const key = fc.string({ maxLength: 6 });
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 3 })),
        fc.constantFrom(0, 2, '\t'),
        fc.jsonValue({ maxDepth: 2 }),
        (object, indent, inserted) => {
          const text = JSON.stringify(object, null, indent);
          const edited = setJsonValue(text, ['mcpServers', 'palisade'], inserted, '  ', '\n');
          const original = JSON.parse(text) as Record<string, unknown>;
          const servers = original.mcpServers;
          const base = typeof servers === 'object' && servers !== null && !Array.isArray(servers) ? servers : undefined;
          // A non-object mcpServers is replaced outright; patchMcpConfig refuses those before editing.
          expect(JSON.parse(edited)).toEqual({
            ...original,
            mcpServers: { ...(base ?? {}), palisade: JSON.parse(JSON.stringify(inserted)) },
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('unifiedDiff', () => {
  /** Applies a unified diff the way `patch` does (hunks in order, context checked). */
  function applyDiff(before: string, diff: string): string {
    const lines = before.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    const out: string[] = [];
    let cursor = 0;
    const diffLines = diff.split('\n').slice(2, -1);
    for (let index = 0; index < diffLines.length; ) {
      const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(diffLines[index]!);
      if (!header) throw new Error(`bad hunk header ${diffLines[index]}`);
      const length = header[2] === undefined ? 1 : Number(header[2]);
      const start = length === 0 ? Number(header[1]) : Number(header[1]) - 1;
      while (cursor < start) out.push(lines[cursor++]!);
      index++;
      while (index < diffLines.length && !diffLines[index]!.startsWith('@@')) {
        const line = diffLines[index]!;
        const noNewline = diffLines[index + 1] === '\\ No newline at end of file';
        const text = noNewline ? line.slice(1) : `${line.slice(1)}\n`;
        if (line[0] === ' ' || line[0] === '-') {
          if (lines[cursor] !== text) throw new Error(`context mismatch at line ${cursor + 1}`);
          cursor++;
        }
        if (line[0] === ' ' || line[0] === '+') out.push(text);
        index += noNewline ? 2 : 1;
      }
    }
    while (cursor < lines.length) out.push(lines[cursor++]!);
    return out.join('');
  }

  it('prints a new file against /dev/null', () => {
    expect(unifiedDiff(undefined, 'a\nb\n', { fromFile: '/dev/null', toFile: 'b/x' })).toBe(
      '--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n',
    );
  });

  it('is empty for equal texts and marks a missing final newline', () => {
    expect(unifiedDiff('a\n', 'a\n', { fromFile: 'a', toFile: 'b' })).toBe('');
    expect(unifiedDiff('a\nb', 'a\nb\n', { fromFile: 'a/x', toFile: 'b/x' })).toBe(
      '--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n',
    );
  });

  it('keeps changes far apart in separate hunks with three lines of context', () => {
    const before = `${Array.from({ length: 20 }, (_, index) => `line ${index + 1}`).join('\n')}\n`;
    const after = before.replace('line 2\n', 'line two\n').replace('line 18\n', 'line eighteen\n');
    const diff = unifiedDiff(before, after, { fromFile: 'a/f', toFile: 'b/f' });
    expect(diff.match(/^@@ .* @@$/gm)).toEqual(['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@']);
  });

  it('turns the old text into the new one when applied (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', '{', '}', ''), { maxLength: 30 }).map((lines) => lines.join('\n'));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const diff = unifiedDiff(before, after, { fromFile: 'a/f', toFile: 'b/f' });
        expect(diff === '' ? before : applyDiff(before, diff)).toBe(after);
      }),
      { numRuns: 500 },
    );
  });
});

describe('MCP server entries', () => {
  it('runs the pinned governance server over stdio with the config and tenant', () => {
    expect(entry).toEqual({
      command: 'npx',
      args: ['-y', '@palisade/mcp-server@0.1.0', 'serve', '--config', '/srv/app/palisade.yaml', '--tenant', 'default'],
    });
  });

  it('goes through cmd /c on Windows, and leaves out --tenant when there is none', () => {
    expect(mcpServerEntry({ mcpPackage: 'p@1', configPath: 'C:\\a\\palisade.yaml', tenantId: undefined, windows: true })).toEqual({
      command: 'cmd',
      args: ['/c', 'npx', '-y', 'p@1', 'serve', '--config', 'C:\\a\\palisade.yaml'],
    });
  });

  it('has a proxy form that runs the upstream after --', () => {
    expect(
      mcpServerEntry({ mcpPackage: 'p@1', configPath: '/c.yaml', tenantId: 't', proxy: { upstream: ['node', 'server.js'] } }).args,
    ).toEqual(['-y', 'p@1', 'proxy', '--config', '/c.yaml', '--tenant', 't', '--', 'node', 'server.js']);
  });

  it.each([
    ['darwin', {}, '/Users/ada/Library/Application Support/Claude/claude_desktop_config.json'],
    ['linux', {}, '/Users/ada/.config/Claude/claude_desktop_config.json'],
    ['linux', { XDG_CONFIG_HOME: '/xdg' }, '/xdg/Claude/claude_desktop_config.json'],
    ['win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada\\AppData\\Roaming\\Claude\\claude_desktop_config.json'],
  ] as const)('finds Claude Desktop config on %s', (platform, env, expected) => {
    expect(claudeDesktopConfigPath({ platform, homeDir: '/Users/ada', env })).toBe(expected);
  });
});

describe('planSetup', () => {
  it('refuses an unknown target, and --client-config for a framework target', () => {
    expectCode(() => planSetup({ target: 'django' as never, cwd: '/project', files: {} }), 'INVALID_SETUP_OPTIONS');
    expectCode(
      () => planSetup({ target: 'langchain', cwd: '/project', files: {}, clientConfig: { path: '/home/user/c.json', text: undefined } }),
      'INVALID_SETUP_OPTIONS',
    );
  });

  it('leaves a generated file the user changed as it is, and says so', () => {
    const files = { 'package.json': '{"type":"module"}', 'tsconfig.json': '{}', 'src/palisade.ts': '// mine\n' };
    const plan = planSetup({ target: 'vercel-ai', cwd: '/project', files, palisadeVersion: '0.1.0' });
    expect(plan.changes.map((change) => change.displayPath)).not.toContain('src/palisade.ts');
    expect(plan.notes.join('\n')).toContain('src/palisade.ts exists and differs');
  });

  it('sets no tenant when the existing palisade.yaml names none', () => {
    const plan = planSetup({ target: 'cursor', cwd: '/project', files: { 'palisade.yaml': 'version: 1\n' }, palisadeVersion: '0.1.0' });
    expect(plan.clientConfigs[0]?.entry.args).not.toContain('--tenant');
    expect(plan.notes.join('\n')).toContain('names no tenant');
  });

  it('does not fail an MCP target on a broken package.json it only reads the name from', () => {
    const plan = planSetup({ target: 'mcp', cwd: '/project', files: { 'package.json': '{ nope' }, palisadeVersion: '0.1.0' });
    expect(plan.changes.map((change) => change.displayPath)).toContain('palisade/mcp.json');
  });

  it('fails a framework target on a broken package.json it must edit', () => {
    expectCode(() => planSetup({ target: 'langchain', cwd: '/project', files: { 'package.json': '{ nope' } }), 'INVALID_PROJECT_FILE');
  });

  it('allows no path outside the folder unless it is the explicit client config', () => {
    const plan = planSetup({
      target: 'claude-desktop',
      cwd: '/project',
      files: {},
      clientConfig: { path: '/home/user/claude.json', text: '{}' },
      palisadeVersion: '0.1.0',
    });
    expect(plan.allowedOutside).toEqual(['/home/user/claude.json']);
    const outside = plan.changes.filter((change) => !change.path.startsWith('/project/'));
    expect(outside.map((change) => [change.path, change.backup])).toEqual([['/home/user/claude.json', true]]);
  });
});
