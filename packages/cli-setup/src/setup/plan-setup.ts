import { readFileSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { addDependencies } from './add-dependencies.js';
import { detectProject, installCommand, lockfiles, type ProjectInfo } from './detect-project.js';
import { parseJsonObject } from './json-text.js';
import { claudeDesktopConfigPath, mcpServerEntry } from './mcp-server-entry.js';
import { patchMcpConfig } from './patch-mcp-config.js';
import { folderTemplates, renderTemplate, type TemplateSource, templatesDirectory } from './render-template.js';
import { isInside, resolveInside } from './resolve-inside.js';
import { SetupError } from './setup-error.js';
import type {
  ClientConfigPatch,
  DependencyAddition,
  FileChange,
  McpServerEntry,
  PackageManager,
  SetupLanguage,
  SetupPlan,
  SetupTarget,
} from './setup-types.js';
import { setupTargets } from './setup-types.js';

/** Everything `planSetup` decides from: the project's files as text, and the options. */
export interface SetupInput {
  target: SetupTarget;
  /** The target folder (absolute). */
  cwd: string;
  /**
   * The files of `setupInputPaths(target)` that exist, by path relative to `cwd` (posix
   * separators). A path missing here is a file that does not exist.
   */
  files: Readonly<Record<string, string>>;
  packageManager?: PackageManager;
  language?: SetupLanguage;
  /** An explicit MCP client config to patch (absolute path) and its text (`undefined`: not there yet). */
  clientConfig?: { path: string; text: string | undefined };
  /** For Claude Desktop's config location and its `cmd /c npx` entry. Default: this process's. */
  platform?: NodeJS.Platform;
  homeDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Version of the @palisade packages to depend on. Default: this CLI's own version. */
  palisadeVersion?: string;
  /** Where templates come from. Default: the package's `templates/` folder. */
  templates?: TemplateSource;
}

const frameworkTargets = new Set<SetupTarget>(['langchain', 'vercel-ai']);
const mcpServerName = 'palisade';
const defaultTenantId = 'default';

const frameworkDependencies: Record<'langchain' | 'vercel-ai', (palisade: string) => DependencyAddition[]> = {
  langchain: (palisade) => [
    { name: '@palisade/core', version: palisade },
    { name: '@palisade/langchain', version: palisade },
    { name: 'langchain', version: '^1.0.0' },
    { name: '@langchain/core', version: '^1.0.0' },
    { name: 'zod', version: '^4.1.8' },
  ],
  // ai@6 is the line that runs on Node 20 (ai@7 needs Node 22); @palisade/vercel-ai supports both.
  'vercel-ai': (palisade) => [
    { name: '@palisade/core', version: palisade },
    { name: '@palisade/vercel-ai', version: palisade },
    { name: 'ai', version: '^6.0.0' },
    { name: 'zod', version: '^4.1.8' },
  ],
};

const integrationNames = ['palisade', 'palisade-example'] as const;
const sourceExtensions = ['ts', 'mts', 'js', 'mjs'] as const;

/**
 * The files `planSetup` reads for a target, relative to the target folder. `readProjectFiles`
 * reads exactly these, so the plan never decides from a file it did not see.
 *
 * @example
 * setupInputPaths('cursor'); // ['package.json', 'palisade.yaml', '.gitignore', '.cursor/mcp.json']
 */
export function setupInputPaths(target: SetupTarget): string[] {
  const common = ['package.json', 'palisade.yaml', '.gitignore'];
  switch (target) {
    case 'langchain':
    case 'vercel-ai':
      return [
        ...common,
        'tsconfig.json',
        ...lockfiles.map(([name]) => name),
        ...integrationNames.flatMap((name) => sourceExtensions.map((extension) => `src/${name}.${extension}`)),
      ];
    case 'mcp':
      return [...common, 'palisade/mcp.json', 'palisade/README.md'];
    case 'cursor':
      return [...common, '.cursor/mcp.json'];
    case 'claude-desktop':
      return [...common, 'palisade/claude_desktop_config.snippet.json'];
  }
}

/**
 * Plans `palisade setup <target>` (pure: it reads only `input` and the templates).
 *
 * - every target: `palisade.yaml` when there is none (balanced, one tenant), `.palisade/` in
 *   `.gitignore`;
 * - `langchain` / `vercel-ai`: `src/palisade.<ext>` (the guard and the adapter wiring) and
 *   `src/palisade-example.<ext>` (a whole guarded run), and the dependencies package.json lacks;
 * - `cursor`: the palisade server in `.cursor/mcp.json`; `claude-desktop`: a snippet in
 *   `palisade/`, or the client's own file with `clientConfig`; `mcp`: `palisade/mcp.json` and a
 *   README for any client.
 *
 * INVARIANT: a file that exists is never replaced wholesale. Generated files are created only when
 * absent (a different existing one is left as is, with a note); JSON files are patched key by
 * key. So running setup on its own output plans nothing.
 *
 * @example
 * const plan = planSetup({ target: 'langchain', cwd: '/srv/app', files: { 'package.json': '{"type":"module"}', 'tsconfig.json': '{}' } });
 * plan.changes.map((change) => change.displayPath);
 * // ['palisade.yaml', '.gitignore', 'package.json', 'src/palisade.ts', 'src/palisade-example.ts']
 */
export function planSetup(input: SetupInput): SetupPlan {
  if (!setupTargets.includes(input.target)) {
    throw new SetupError({
      code: 'INVALID_SETUP_OPTIONS',
      message: `Unknown setup target ${JSON.stringify(input.target)}.`,
      hint: `Use one of ${setupTargets.join(', ')}.`,
    });
  }
  const target = input.target;
  const cwd = input.cwd;
  const known = new Set(setupInputPaths(target));
  const read = (path: string): string | undefined => {
    // INVARIANT: the plan decides only from files the caller was told to read.
    if (!known.has(path)) throw new Error(`planSetup read ${path}, which is not in setupInputPaths(${target})`);
    return input.files[path];
  };
  const templates = input.templates ?? folderTemplates(templatesDirectory);
  const palisadeVersion = `^${input.palisadeVersion ?? cliVersion()}`;
  const mcpPackage = `@palisade/mcp-server@${input.palisadeVersion ?? cliVersion()}`;

  if (input.clientConfig && frameworkTargets.has(target)) {
    throw new SetupError({
      code: 'INVALID_SETUP_OPTIONS',
      message: `--client-config is for the MCP targets (mcp, claude-desktop, cursor), not ${target}.`,
    });
  }

  const packageJsonText = read('package.json');
  const packageJson =
    packageJsonText === undefined
      ? undefined
      : readPackageJson(packageJsonText, resolveInside(cwd, 'package.json'), frameworkTargets.has(target));
  const project = detectProject(input.files, pick(input, ['packageManager', 'language']), packageJson);

  const changes: FileChange[] = [];
  const notes: string[] = [];
  const clientConfigs: ClientConfigPatch[] = [];
  const allowedOutside: string[] = [];
  let dependencies: DependencyAddition[] = [];

  const change = (path: string, displayPath: string, before: string | undefined, after: string, reason: string, backup = false) => {
    if (before === after) return;
    changes.push({
      path,
      displayPath,
      kind: before === undefined ? 'create' : 'update',
      before,
      after,
      backup: backup && before !== undefined,
      reason,
    });
  };
  const inside = (relativePath: string) => resolveInside(cwd, relativePath, 'file');
  const createIfAbsent = (relativePath: string, content: string, reason: string) => {
    const current = read(relativePath);
    if (current !== undefined && current !== content) {
      notes.push(
        `${relativePath} exists and differs from what setup writes; it was left as is (delete it and run setup again to regenerate it).`,
      );
      return;
    }
    change(inside(relativePath), relativePath, current, content, reason);
  };

  // palisade.yaml: written once; an existing one is the user's, and it names the tenant to use.
  const existingYaml = read('palisade.yaml');
  const tenantId = existingYaml === undefined ? defaultTenantId : firstTenant(existingYaml);
  if (existingYaml === undefined) {
    const tenantName = typeof packageJson?.name === 'string' && packageJson.name !== '' ? packageJson.name : basename(cwd) || 'My app';
    const yaml = render(templates, 'palisade.yaml.tmpl', { target, tenantId: defaultTenantId, tenantName: JSON.stringify(tenantName) });
    change(inside('palisade.yaml'), 'palisade.yaml', undefined, yaml, 'the policy: balanced preset, one tenant');
  } else if (tenantId === undefined) {
    notes.push('palisade.yaml names no tenant, so the generated wiring sets none (events fall to defaults.policy).');
  }

  const gitignore = read('.gitignore');
  const ignored = ensureIgnored(gitignore);
  change(inside('.gitignore'), '.gitignore', gitignore, ignored, 'keep runtime state (.palisade/: audit log, vault key) out of git');

  if (target === 'langchain' || target === 'vercel-ai') {
    const packageFile = inside('package.json');
    const { text, added } = addDependencies({
      text: packageJsonText,
      file: packageFile,
      dependencies: frameworkDependencies[target](palisadeVersion),
      packageName: packageName(basename(cwd)),
    });
    dependencies = added;
    change(
      packageFile,
      'package.json',
      packageJsonText,
      text,
      added.length > 0 ? `add ${added.map((dependency) => dependency.name).join(', ')}` : 'create it',
    );

    const extension = sourceExtension(project);
    const importExtension = extension.startsWith('m') ? '.mjs' : '.js';
    const scope = tenantId === undefined ? '{}' : `{ tenantId: ${quote(tenantId)} }`;
    const values = { target, scope, palisadeModule: `./palisade${importExtension}` };
    const language = project.language;
    createIfAbsent(
      `src/palisade.${extension}`,
      render(templates, `${target}/palisade.${language}.tmpl`, values),
      'the guard and the adapter wiring',
    );
    createIfAbsent(
      `src/palisade-example.${extension}`,
      render(templates, `${target}/palisade-example.${language}.tmpl`, values),
      'a whole guarded run, with the model passed in',
    );
    notes.push(...frameworkNotes(target, extension, importExtension));
  } else {
    const windows = (input.platform ?? process.platform) === 'win32';
    const absoluteConfig = inside('palisade.yaml');
    const entryFor = (configPath: string, onWindows: boolean) => mcpServerEntry({ mcpPackage, configPath, tenantId, windows: onWindows });

    const patch = (
      path: string,
      displayPath: string,
      before: string | undefined,
      entry: McpServerEntry,
      reason: string,
      backup: boolean,
    ) => {
      const after = patchMcpConfig({ text: before, file: path, server: mcpServerName, entry });
      clientConfigs.push({ file: path, server: mcpServerName, entry, changed: after !== before });
      change(path, displayPath, before, after, reason, backup);
    };
    const patchExplicit = (entry: McpServerEntry, client: string) => {
      const explicit = input.clientConfig!;
      const outside = !isInside(cwd, explicit.path);
      // The one exception to the folder rule: a client config the user named on the command line.
      if (outside) allowedOutside.push(explicit.path);
      const display = outside ? explicit.path : toPosix(relative(cwd, explicit.path));
      patch(
        explicit.path,
        display,
        explicit.text,
        entry,
        `add the palisade server to ${client}'s config (a backup is kept beside it)`,
        true,
      );
      notes.push(`Restart ${client} (or reload its MCP servers) to start the palisade server.`);
    };

    if (target === 'cursor') {
      if (input.clientConfig) {
        patchExplicit(
          entryFor(input.clientConfig.path === inside('.cursor/mcp.json') ? '${workspaceFolder}/palisade.yaml' : absoluteConfig, false),
          'Cursor',
        );
      } else {
        // Cursor expands ${workspaceFolder} in project configs, so the file stays valid for everyone who clones the repo.
        const path = inside('.cursor/mcp.json');
        patch(
          path,
          '.cursor/mcp.json',
          read('.cursor/mcp.json'),
          entryFor('${workspaceFolder}/palisade.yaml', false),
          'run the palisade MCP server in this project',
          false,
        );
        notes.push('Cursor starts the palisade server for this project: open Settings → MCP to check it is enabled.');
      }
    } else if (target === 'claude-desktop') {
      const entry = entryFor(absoluteConfig, windows);
      if (input.clientConfig) {
        patchExplicit(entry, 'Claude Desktop');
      } else {
        const snippet = 'palisade/claude_desktop_config.snippet.json';
        patch(inside(snippet), snippet, read(snippet), entry, 'the server entry to merge into Claude Desktop', false);
        const location = claudeDesktopConfigPath({
          platform: input.platform ?? process.platform,
          homeDir: input.homeDir ?? '~',
          env: input.env ?? {},
        });
        notes.push(
          `Claude Desktop's config lives outside this folder (${location}), so setup did not touch it: merge "mcpServers.palisade" from ${snippet} into it, or run setup again with --client-config "${location}" to have it patched (with a backup).`,
        );
      }
    } else {
      const entry = entryFor(absoluteConfig, windows);
      patch(
        inside('palisade/mcp.json'),
        'palisade/mcp.json',
        read('palisade/mcp.json'),
        entry,
        'the server entry for any MCP client',
        false,
      );
      const proxy = mcpServerEntry({
        mcpPackage,
        configPath: absoluteConfig,
        tenantId,
        windows,
        proxy: { upstream: ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/data'] },
      });
      createIfAbsent(
        'palisade/README.md',
        render(templates, 'mcp/README.md.tmpl', {
          target,
          entryJson: JSON.stringify({ mcpServers: { [mcpServerName]: entry } }, null, 2),
          proxyJson: JSON.stringify({ mcpServers: { filesystem: proxy } }, null, 2),
          mcpPackage,
          tenantId: tenantId ?? '<tenant>',
        }),
        'how to add the server to a client, and the proxy form',
      );
      if (input.clientConfig) patchExplicit(entry, 'the MCP client');
      else
        notes.push(
          'Merge "mcpServers.palisade" from palisade/mcp.json into your MCP client\'s config (palisade/README.md says how), or run setup again with --client-config <path>.',
        );
    }
  }

  const packageChanged = changes.some((fileChange) => fileChange.displayPath === 'package.json') && dependencies.length > 0;
  return {
    target,
    cwd,
    project,
    changes,
    dependencies,
    clientConfigs,
    installCommand: packageChanged ? installCommand(project.packageManager) : undefined,
    allowedOutside,
    notes,
  };
}

function frameworkNotes(target: 'langchain' | 'vercel-ai', extension: string, importExtension: string): string[] {
  const module = `./palisade${importExtension}`;
  return target === 'langchain'
    ? [
        `Add the middleware to your agents: import { palisade } from '${module}' (src/palisade.${extension}), then createAgent({ model, tools, middleware: [palisade] }).`,
        `src/palisade-example.${extension} shows a whole guarded run: runExample(model, prompt).`,
      ]
    : [
        `Wrap your model and tools: import { guardedModel, guardedTools } from '${module}' (src/palisade.${extension}), then generateText({ model: guardedModel(model), tools: guardedTools(tools), … }).`,
        `src/palisade-example.${extension} shows a whole guarded run: runExample(model, prompt).`,
      ];
}

/** `.ts`/`.js` in an ES-module package; `.mts`/`.mjs` otherwise, because the @palisade packages are ESM only. */
function sourceExtension(project: ProjectInfo): string {
  const esm = project.moduleType === 'module';
  if (project.language === 'ts') return esm ? 'ts' : 'mts';
  return esm ? 'js' : 'mjs';
}

function render(templates: TemplateSource, name: string, values: Record<string, string>): string {
  return renderTemplate(templates(name), values, name);
}

/**
 * package.json, parsed. A framework target edits it, so a broken one is an error; an MCP target
 * reads only its name, and a broken one is not its business.
 */
function readPackageJson(text: string, file: string, strict: boolean): Record<string, unknown> | undefined {
  try {
    return parseJsonObject(text, file, 'package.json').value;
  } catch (error) {
    if (strict) throw error;
    return undefined;
  }
}

/** The first tenant of an existing palisade.yaml; `undefined` when it has none or cannot be read. */
function firstTenant(text: string): string | undefined {
  try {
    const document = parseYaml(text) as { tenants?: unknown } | null;
    const tenants = document?.tenants;
    if (typeof tenants !== 'object' || tenants === null) return undefined;
    return Object.keys(tenants)[0];
  } catch {
    return undefined;
  }
}

const ignoreLines = new Set(['.palisade', '.palisade/', '/.palisade', '/.palisade/', '.palisade/*', '/.palisade/*']);

function ensureIgnored(text: string | undefined): string {
  const block = '# Palisade runtime state (approvals, budgets, audit log, vault key)\n.palisade/\n';
  if (text === undefined || text === '') return block;
  if (text.split(/\r?\n/).some((line) => ignoreLines.has(line.trim()))) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const separator = text.endsWith('\n') ? eol : `${eol}${eol}`;
  return `${text}${separator}${block.replace(/\n/g, eol)}`;
}

/** An npm package name from a folder name. */
function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name === '' ? 'app' : name.slice(0, 214);
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

let version: string | undefined;

/** This CLI's version (the @palisade packages are released together). */
export function cliVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
