import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type ConfigIssue, compileConfig, InvalidConfigError, type LoadedConfig, loadConfig } from '@palisade/core';
import { isScalar, isSeq, parseDocument } from 'yaml';
import { CliError } from '../cli-error.js';
import { editYamlText, type YamlEdit } from './edit-yaml-text.js';
import { structuralEnv } from './structural-env.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** A suppression as `palisade suppress add` writes it. */
export interface SuppressionInput {
  rule: string;
  reason: string;
  app?: string;
  /** ISO date or date-time. */
  expires?: string;
  action?: 'suppress' | 'flag' | 'log';
}

/** A change to palisade.yaml, as data. */
export type ConfigEdit =
  | { kind: 'tenant.create'; tenantId: string; name?: string; defaultPolicy?: string }
  | { kind: 'tenant.delete'; tenantId: string }
  | { kind: 'app.create'; tenantId: string; appId: string; name?: string; defaultPolicy?: string }
  | { kind: 'app.delete'; tenantId: string; appId: string }
  /** Without `tenantId`: the system default (`defaults.policy`). `shadow`: the shadow policy instead. */
  | { kind: 'policy.set'; policyId: string; tenantId?: string; appId?: string; shadow?: boolean }
  | { kind: 'suppression.add'; tenantId: string; suppression: SuppressionInput }
  /** Removes every suppression of `rule` (and only those of `appId` when given). */
  | { kind: 'suppression.remove'; tenantId: string; rule: string; appId?: string };

/** What an edit would do: the file, its text before and after, and a one-line summary. */
export interface ConfigEditPlan {
  edit: ConfigEdit;
  /** The file changed: palisade.yaml, or the included file that defines the tenant. */
  file: string;
  before: string;
  after: string;
  summary: string;
  /** See `YamlEditResult.layout`. */
  layout: 'preserved' | 'reformatted';
}

export interface PlanConfigEditOptions {
  /** Path of palisade.yaml. */
  configPath: string;
  edit: ConfigEdit;
  /** Environment for `${VAR}` (default process.env); variables it lacks do not block an edit. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Plans an edit of palisade.yaml: reads the configuration, finds the file that holds what the
 * edit touches, changes only the lines it must (comments and layout stay), and validates the
 * whole configuration as it would be (`loadConfig` + `compileConfig`). Nothing is written.
 * Throws `CliError` (`NOT_FOUND`, `ALREADY_EXISTS`, `EDIT_REFUSED` with every problem at
 * file:line:col, `UNSUPPORTED`).
 *
 * @example
 * const plan = planConfigEdit({ configPath: 'palisade.yaml', edit: { kind: 'tenant.create', tenantId: 'beta', defaultPolicy: 'strict' } });
 * applyConfigEdit(plan);
 */
export function planConfigEdit(options: PlanConfigEditOptions): ConfigEditPlan {
  const root = resolve(options.configPath);
  const env = structuralEnv(options.env ?? process.env);
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ path: root, env });
    compileConfig(loaded);
  } catch (error) {
    if (!InvalidConfigError.isInstance(error)) throw error;
    throw new CliError({
      code: 'EDIT_REFUSED',
      message: `The configuration is invalid now, so it cannot be edited safely:\n  ${formatIssues(error.issues)}`,
      hint: 'Fix these problems by hand first (`palisade policy validate` lists them), then run the command again.',
    });
  }
  const { file, edits, summary } = resolveEdit(loaded, root, options.edit);
  const before = readFileSync(file, 'utf8');
  let after = before;
  let layout: ConfigEditPlan['layout'] = 'preserved';
  for (const edit of edits) {
    const result = editYamlText(after, edit);
    after = result.text;
    if (result.layout === 'reformatted') layout = 'reformatted';
  }
  validateEdited({ root, file, before, after, env });
  return { edit: options.edit, file, before, after, summary, layout };
}

export interface ApplyConfigEditOptions {
  /** Write nothing (the caller shows the plan). */
  dryRun?: boolean;
}

/**
 * Writes a planned edit atomically (temporary file + rename), so a guard watching the file
 * reloads the new configuration whole. Refuses (`FILE_CHANGED`) when the file changed since the
 * plan was made.
 *
 * @example
 * const { written } = applyConfigEdit(plan, { dryRun: false });
 */
export function applyConfigEdit(plan: ConfigEditPlan, options: ApplyConfigEditOptions = {}): { written: boolean } {
  if (options.dryRun || plan.after === plan.before) return { written: false };
  const current = readFileSync(plan.file, 'utf8');
  if (current !== plan.before) {
    throw new CliError({
      code: 'FILE_CHANGED',
      message: `${plan.file} changed while the edit was being prepared; nothing was written.`,
      hint: 'Run the command again.',
    });
  }
  writeFileAtomic(plan.file, plan.after);
  return { written: true };
}

interface ResolvedEdit {
  file: string;
  edits: YamlEdit[];
  summary: string;
}

function resolveEdit(loaded: LoadedConfig, root: string, edit: ConfigEdit): ResolvedEdit {
  const tenants = loaded.config.tenants;
  const tenantFile = (tenantId: string) => {
    if (!tenants[tenantId]) {
      const known = Object.keys(tenants);
      throw new CliError({
        code: 'NOT_FOUND',
        message: `No tenant "${tenantId}" in ${root}.`,
        hint: known.length
          ? `Known tenants: ${known.join(', ')}. Create it with \`palisade tenant create ${tenantId}\`.`
          : `There are no tenants yet. Create one with \`palisade tenant create ${tenantId}\`.`,
      });
    }
    return loaded.locate(['tenants', tenantId]).file;
  };
  const where = (path: (string | number)[]) => {
    const at = loaded.locate(path);
    return at.line ? `${at.file}:${at.line}:${at.column ?? 1}` : at.file;
  };
  const compact = <T extends Record<string, unknown>>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;

  switch (edit.kind) {
    case 'tenant.create': {
      if (tenants[edit.tenantId]) {
        throw new CliError({
          code: 'ALREADY_EXISTS',
          message: `Tenant "${edit.tenantId}" exists already (${where(['tenants', edit.tenantId])}).`,
          hint: `Change it with \`palisade policy set <policy> --tenant ${edit.tenantId}\`, or pick another id.`,
        });
      }
      return {
        file: root,
        edits: [{ op: 'set', path: ['tenants', edit.tenantId], value: compact({ name: edit.name, default_policy: edit.defaultPolicy }) }],
        summary: `Created tenant "${edit.tenantId}"${edit.defaultPolicy ? ` (default policy ${edit.defaultPolicy})` : ''}`,
      };
    }
    case 'tenant.delete':
      return {
        file: tenantFile(edit.tenantId),
        edits: [{ op: 'delete', path: ['tenants', edit.tenantId] }],
        summary: `Deleted tenant "${edit.tenantId}" with its apps and suppressions`,
      };
    case 'app.create': {
      const file = tenantFile(edit.tenantId);
      if (tenants[edit.tenantId]?.apps[edit.appId]) {
        throw new CliError({
          code: 'ALREADY_EXISTS',
          message: `Tenant "${edit.tenantId}" has an app "${edit.appId}" already (${where(['tenants', edit.tenantId, 'apps', edit.appId])}).`,
          hint: 'Pick another app id.',
        });
      }
      return {
        file,
        edits: [
          {
            op: 'set',
            path: ['tenants', edit.tenantId, 'apps', edit.appId],
            value: compact({ name: edit.name, default_policy: edit.defaultPolicy }),
          },
        ],
        summary: `Created app "${edit.appId}" of tenant "${edit.tenantId}"${edit.defaultPolicy ? ` (default policy ${edit.defaultPolicy})` : ''}`,
      };
    }
    case 'app.delete': {
      const file = tenantFile(edit.tenantId);
      requireApp(tenants, edit.tenantId, edit.appId);
      return {
        file,
        edits: [{ op: 'delete', path: ['tenants', edit.tenantId, 'apps', edit.appId] }],
        summary: `Deleted app "${edit.appId}" of tenant "${edit.tenantId}"`,
      };
    }
    case 'policy.set': {
      const key = edit.shadow ? 'shadow_policy' : 'default_policy';
      if (edit.tenantId === undefined) {
        if (edit.appId !== undefined) throw new CliError({ code: 'USAGE', message: '--app needs --tenant.' });
        if (edit.shadow)
          throw new CliError({ code: 'USAGE', message: '--shadow needs --tenant: a shadow policy belongs to a tenant or an app.' });
        return {
          file: root,
          edits: [{ op: 'set', path: ['defaults', 'policy'], value: edit.policyId }],
          summary: `The system default policy is now ${edit.policyId}`,
        };
      }
      const file = tenantFile(edit.tenantId);
      if (edit.appId !== undefined) {
        requireApp(tenants, edit.tenantId, edit.appId);
        return {
          file,
          edits: [{ op: 'set', path: ['tenants', edit.tenantId, 'apps', edit.appId, key], value: edit.policyId }],
          summary: `App "${edit.appId}" of tenant "${edit.tenantId}" now uses ${edit.policyId}${edit.shadow ? ' as its shadow policy' : ''}`,
        };
      }
      return {
        file,
        edits: [{ op: 'set', path: ['tenants', edit.tenantId, key], value: edit.policyId }],
        summary: `Tenant "${edit.tenantId}" now uses ${edit.policyId}${edit.shadow ? ' as its shadow policy' : ''}`,
      };
    }
    case 'suppression.add': {
      const file = tenantFile(edit.tenantId);
      const { suppression } = edit;
      if (suppression.app !== undefined) requireApp(tenants, edit.tenantId, suppression.app);
      const existing = tenants[edit.tenantId]?.suppressions ?? [];
      const duplicate = existing.findIndex((item) => item.rule === suppression.rule && item.app === suppression.app);
      if (duplicate !== -1) {
        throw new CliError({
          code: 'ALREADY_EXISTS',
          message: `Tenant "${edit.tenantId}" already suppresses "${suppression.rule}"${suppression.app ? ` for app "${suppression.app}"` : ''} (${where(['tenants', edit.tenantId, 'suppressions', duplicate])}).`,
          hint: `Remove it first with \`palisade suppress remove ${suppression.rule} --tenant ${edit.tenantId}\` to change it.`,
        });
      }
      return {
        file,
        edits: [
          {
            op: 'append',
            path: ['tenants', edit.tenantId, 'suppressions'],
            value: compact({
              rule: suppression.rule,
              reason: suppression.reason,
              app: suppression.app,
              expires: suppression.expires,
              action: suppression.action,
            }),
          },
        ],
        summary: `Tenant "${edit.tenantId}" now suppresses "${suppression.rule}"${suppression.app ? ` for app "${suppression.app}"` : ''}`,
      };
    }
    case 'suppression.remove': {
      const file = tenantFile(edit.tenantId);
      const existing = tenants[edit.tenantId]?.suppressions ?? [];
      const indices = existing
        .map((item, index) => ({ item, index }))
        .filter(({ item }) => item.rule === edit.rule && (edit.appId === undefined || item.app === edit.appId))
        .map(({ index }) => index);
      if (indices.length === 0) {
        throw new CliError({
          code: 'NOT_FOUND',
          message: `Tenant "${edit.tenantId}" has no suppression of "${edit.rule}"${edit.appId ? ` for app "${edit.appId}"` : ''}.`,
          hint: `List them with \`palisade suppress list --tenant ${edit.tenantId}\`.`,
        });
      }
      return {
        file,
        // Highest index first, so earlier indices stay valid.
        edits: indices.reverse().map((index): YamlEdit => ({ op: 'delete', path: ['tenants', edit.tenantId, 'suppressions', index] })),
        summary: `Removed ${indices.length} suppression${indices.length === 1 ? '' : 's'} of "${edit.rule}" from tenant "${edit.tenantId}"`,
      };
    }
  }
}

function requireApp(tenants: LoadedConfig['config']['tenants'], tenantId: string, appId: string): void {
  const apps = tenants[tenantId]?.apps ?? {};
  if (apps[appId]) return;
  const known = Object.keys(apps);
  throw new CliError({
    code: 'NOT_FOUND',
    message: `Tenant "${tenantId}" has no app "${appId}".`,
    hint: known.length
      ? `Its apps: ${known.join(', ')}. Create it with \`palisade app create ${appId} --tenant ${tenantId}\`.`
      : `It has no apps yet. Create one with \`palisade app create ${appId} --tenant ${tenantId}\`.`,
  });
}

interface ValidateOptions {
  root: string;
  file: string;
  before: string;
  after: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Loads and compiles the configuration as it would be after the edit. An edit of an included
 * file is checked through a temporary copy beside it that the root's `include` points to for the
 * check (the copy is deleted before returning).
 */
function validateEdited({ root, file, before, after, env }: ValidateOptions): void {
  let temporary: string | undefined;
  try {
    if (file === root) {
      compileConfig(loadConfig({ path: root, text: after, env }));
      return;
    }
    const rootText = readFileSync(root, 'utf8');
    const includes = parseDocument(rootText).get('include', true);
    const entry = isSeq(includes)
      ? includes.items.find((item) => isScalar(item) && typeof item.value === 'string' && resolve(dirname(root), item.value) === file)
      : undefined;
    const range = isScalar(entry) ? entry.range : undefined;
    if (!range) {
      throw new CliError({
        code: 'UNSUPPORTED',
        message: `${file} is included by another included file, not by ${root}; the CLI edits only files palisade.yaml includes directly.`,
        hint: `Edit ${file} by hand, then check it with \`palisade policy validate\`.`,
      });
    }
    temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.check.yaml`);
    writeFileSync(temporary, after);
    const redirected = rootText.slice(0, range[0]) + JSON.stringify(temporary) + rootText.slice(range[1]);
    compileConfig(loadConfig({ path: root, text: redirected, env }));
  } catch (error) {
    if (!InvalidConfigError.isInstance(error)) throw error;
    const issues = error.issues.map((issue) => placeIssue(issue, { file, before, temporary }));
    throw new CliError({
      code: 'EDIT_REFUSED',
      message: `This edit would make the configuration invalid, so nothing was written:\n  ${formatIssues(issues)}`,
      hint: 'Fix what the edit depends on first (create the policy, tenant or app it names; remove what still refers to what it deletes).',
    });
  } finally {
    if (temporary) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * An issue found in the edited text, placed where the user can find it: the line in the file as
 * it is now when the field exists there, else the line it would have after the edit (said so).
 */
function placeIssue(issue: ConfigIssue, context: { file: string; before: string; temporary: string | undefined }): ConfigIssue {
  const real = (text: string) => (context.temporary ? text.split(context.temporary).join(context.file) : text);
  const file = real(issue.file);
  const message = real(issue.message);
  if (file !== context.file || !issue.path) return { ...issue, file, message };
  const path = issue.path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  const node = parseDocument(context.before).getIn(path, true) as { range?: [number, number, number] } | undefined;
  if (node && typeof node === 'object' && node.range) {
    const offset = node.range[0];
    const line = context.before.slice(0, offset).split('\n').length;
    const column = offset - context.before.lastIndexOf('\n', offset - 1);
    return { ...issue, file, message, line, column };
  }
  return { ...issue, file, message: `${message} (line numbers as the file would be after the edit)` };
}

/** `file:line:col at path: message`, one per line, paths relative to the working folder when shorter. */
export function formatIssues(issues: readonly ConfigIssue[], cwd: string = process.cwd()): string {
  return issues
    .map((issue) => {
      const shown = relative(cwd, issue.file);
      const file = shown && !shown.startsWith('..') && shown.length < issue.file.length ? shown : issue.file;
      const where = issue.line ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
      return `${where} at ${issue.path || '(root)'}: ${issue.message}`;
    })
    .join('\n  ');
}
