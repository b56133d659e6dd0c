import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import type { ZodError } from 'zod';
import { type ConfigIssue, InvalidConfigError } from '../errors/invalid-config-error.js';
import { type ConfigFile, configFileSchema } from './config-schema.js';

// yaml is required on first use (see config-schema.ts).
const require = createRequire(import.meta.url);
const loadYaml = () => require('yaml') as typeof import('yaml');

import { describeZodIssue, nodePosition } from './yaml-position.js';

export type ConfigPath = readonly (string | number)[];

/** A validated, merged configuration and where each part of it came from. */
export interface LoadedConfig {
  config: ConfigFile;
  /** Every file read (the root first), for watching. */
  files: string[];
  /** File, line and column of a field path of the merged configuration, as near as known. */
  locate(path: ConfigPath): Omit<ConfigIssue, 'path' | 'message'>;
  /** Version: a hash of the merged configuration. */
  version: string;
}

export interface LoadConfigOptions {
  /** Path of palisade.yaml. */
  path?: string;
  /** YAML text (with `path`, its name in messages and the base for includes). */
  text?: string;
  /** A configuration object, already parsed. */
  object?: unknown;
  /** Environment for `${VAR}` interpolation. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

interface ParsedFile {
  file: string;
  document: Document;
  lineCounter: LineCounter;
  data: ConfigFile;
}

const variable = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Loads palisade.yaml (or a YAML string, or an object): `${VAR}` and `${VAR:-default}` are
 * replaced from the environment (`${context.x}` references are left for conditions), included
 * files are merged, and everything is validated. Throws `InvalidConfigError` listing every
 * problem with file, line, column and field path.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const env = options.env ?? process.env;
  if (options.object !== undefined) {
    const parsed = configFileSchema().safeParse(options.object);
    if (!parsed.success) throw new InvalidConfigError(zodIssues(parsed.error, '<config object>', undefined));
    return finish([], parsed.data, () => ({ file: '<config object>' }));
  }
  const rootFile = resolve(options.path ?? 'palisade.yaml');
  const issues: ConfigIssue[] = [];
  const parsedFiles: ParsedFile[] = [];
  const seen = new Set<string>();
  const read = (file: string, text: string | undefined, includedFrom: string | undefined) => {
    if (seen.has(file)) {
      issues.push({ file: includedFrom ?? file, path: 'include', message: `${file} is included twice (or includes itself)` });
      return;
    }
    seen.add(file);
    let source = text;
    if (source === undefined) {
      try {
        source = readFileSync(file, 'utf8');
      } catch (error) {
        issues.push({
          file: includedFrom ?? file,
          path: includedFrom ? 'include' : '',
          message: `cannot read ${file}: ${(error as Error).message}`,
        });
        return;
      }
    }
    const yaml = loadYaml();
    const lineCounter = new yaml.LineCounter();
    const document = yaml.parseDocument(source, { lineCounter, prettyErrors: false });
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const position = lineCounter.linePos(error.pos[0]);
        issues.push({ file, line: position.line, column: position.col, path: '', message: error.message });
      }
      return;
    }
    interpolate(document, env, (node, message) => {
      const position = lineCounter.linePos(node.range?.[0] ?? 0);
      issues.push({ file, line: position.line, column: position.col, path: '', message });
    });
    const parsed = configFileSchema().safeParse(document.toJS() ?? {});
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, file, { document, lineCounter }));
      return;
    }
    if (includedFrom && document.has('defaults')) {
      issues.push({
        file,
        ...nodePosition(document, lineCounter, ['defaults']),
        path: 'defaults',
        message: 'defaults belong in the root file only',
      });
    }
    parsedFiles.push({ file, document, lineCounter, data: parsed.data });
    for (const include of parsed.data.include) read(resolve(dirname(file), include), undefined, file);
  };
  read(rootFile, options.text, undefined);
  if (issues.length > 0) throw new InvalidConfigError(issues);

  // Merge: the root's sections, then each included file's, in reading order.
  const [root] = parsedFiles as [ParsedFile];
  const merged: ConfigFile = { ...root.data, platform: { rules: [] }, policies: {}, tenants: {}, include: [] };
  const owners = new Map<string, ParsedFile>();
  const platformOwners: { file: ParsedFile; index: number }[] = [];
  for (const parsed of parsedFiles) {
    (parsed.data.platform?.rules ?? []).forEach((rule, index) => {
      merged.platform?.rules.push(rule);
      platformOwners.push({ file: parsed, index });
    });
    for (const section of ['policies', 'tenants'] as const) {
      for (const [id, value] of Object.entries(parsed.data[section])) {
        const key = `${section}.${id}`;
        const previous = owners.get(key);
        if (previous) {
          issues.push({
            file: parsed.file,
            ...nodePosition(parsed.document, parsed.lineCounter, [section, id]),
            path: key,
            message: `${section === 'policies' ? 'policy' : 'tenant'} "${id}" is also defined in ${previous.file}`,
          });
          continue;
        }
        owners.set(key, parsed);
        (merged[section] as Record<string, unknown>)[id] = value;
      }
    }
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);

  const locate = (path: ConfigPath) => {
    let owner = root;
    let inner: (string | number)[] = [...path];
    if ((path[0] === 'policies' || path[0] === 'tenants') && typeof path[1] === 'string')
      owner = owners.get(`${path[0]}.${path[1]}`) ?? root;
    if (path[0] === 'platform' && path[1] === 'rules' && typeof path[2] === 'number') {
      const entry = platformOwners[path[2]];
      if (entry) {
        owner = entry.file;
        inner = ['platform', 'rules', entry.index, ...path.slice(3)];
      }
    }
    return { file: owner.file, ...nodePosition(owner.document, owner.lineCounter, inner) };
  };
  return finish(
    parsedFiles.map((parsed) => parsed.file),
    merged,
    locate,
  );
}

function finish(files: string[], config: ConfigFile, locate: LoadedConfig['locate']): LoadedConfig {
  const version = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  return { config, files, locate, version };
}

function interpolate(
  document: Document,
  env: LoadConfigOptions['env'] & object,
  report: (node: { range?: [number, number, number] | null }, message: string) => void,
): void {
  loadYaml().visit(document, {
    Scalar(_, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(variable, (whole, name: string, fallback: string | undefined) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        report(node, `environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
        return whole;
      });
    },
  });
}

function zodIssues(error: ZodError, file: string, source: { document: Document; lineCounter: LineCounter } | undefined): ConfigIssue[] {
  return error.issues.map((issue) => {
    const { path, ...where } = describeZodIssue(issue, source);
    return { file, ...where, path: path.join('.') };
  });
}
