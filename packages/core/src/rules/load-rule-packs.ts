import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LineCounter, parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { describeZodIssue, nodePosition } from '../config/yaml-position.js';
import { InvalidRulePackError, type RulePackIssue } from '../errors/invalid-rule-pack-error.js';
import type { Family } from '../types.js';
import { type RuleDefinition, rulePackSchema } from './rule-schema.js';

// yaml is loaded on first use (see rule-schema.ts): cached packs need neither yaml nor zod.
const require = createRequire(import.meta.url);
const loadYaml = () => require('yaml') as typeof import('yaml');

/** The rule packs shipped with @palisade/core. */
export const defaultRulesDirectory = fileURLToPath(new URL('../../rules/', import.meta.url));

/** A rule as written, with the family and file it came from. */
export interface LoadedRule extends RuleDefinition {
  family: Family;
  file: string;
}

/** Source text of a pack: a file on disk, or YAML given inline (tests, custom packs). */
export interface RulePackSource {
  file: string;
  yaml: string;
}

/** Reads every `*.yaml` file in a directory, sorted by name. */
export function readRulePackDirectory(directory: string): RulePackSource[] {
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'));
  } catch (error) {
    throw new InvalidRulePackError([
      { file: directory, path: '', message: `cannot read the rule directory (${(error as Error).message})` },
    ]);
  }
  return names.sort().map((name) => {
    const file = join(directory, name);
    return { file, yaml: readFileSync(file, 'utf8') };
  });
}

/**
 * Parses and validates rule packs. Collects every problem (YAML syntax, shape, duplicate ids)
 * before throwing one `InvalidRulePackError` that names file, line, column and field path.
 */
export function parseRulePacks(sources: readonly RulePackSource[]): LoadedRule[] {
  const issues: RulePackIssue[] = [];
  const rules: LoadedRule[] = [];
  const seen = new Map<string, string>();
  for (const source of sources) {
    const yaml = loadYaml();
    const lineCounter = new yaml.LineCounter();
    const document = yaml.parseDocument(source.yaml, { lineCounter, prettyErrors: false });
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const position = lineCounter.linePos(error.pos[0]);
        issues.push({ file: source.file, line: position.line, column: position.col, path: '', message: error.message });
      }
      continue;
    }
    const parsed = rulePackSchema().safeParse(document.toJS());
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, source.file, document, lineCounter));
      continue;
    }
    parsed.data.rules.forEach((rule, index) => {
      const where = nodePosition(document, lineCounter, ['rules', index, 'id']);
      const prefix = `${parsed.data.family.toLowerCase()}-`;
      if (!rule.id.startsWith(prefix)) {
        issues.push({
          file: source.file,
          ...where,
          ruleId: rule.id,
          path: `rules[${index}].id`,
          message: `id must start with "${prefix}" in a ${parsed.data.family} pack`,
        });
      }
      const previous = seen.get(rule.id);
      if (previous) {
        issues.push({
          file: source.file,
          ...where,
          ruleId: rule.id,
          path: `rules[${index}].id`,
          message: `duplicate rule id (also in ${previous})`,
        });
      }
      seen.set(rule.id, source.file);
      rules.push({ ...rule, family: parsed.data.family, file: source.file });
    });
  }
  if (issues.length > 0) throw new InvalidRulePackError(issues);
  return rules;
}

type YamlDocument = ReturnType<typeof parseDocument>;

function zodIssues(error: ZodError, file: string, document: YamlDocument, lineCounter: LineCounter): RulePackIssue[] {
  const data = document.toJS() as { rules?: { id?: unknown }[] } | null;
  return error.issues.map((issue) => {
    const { path, ...where } = describeZodIssue(issue, { document, lineCounter });
    const ruleIndex = path[0] === 'rules' && typeof path[1] === 'number' ? path[1] : undefined;
    const ruleId = ruleIndex !== undefined ? data?.rules?.[ruleIndex]?.id : undefined;
    return { file, ...where, ...(typeof ruleId === 'string' ? { ruleId } : {}), path: formatPath(path) };
  });
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('') || '(root)';
}

/** Where the build writes the validated shipped packs (see scripts/build-rule-cache.mjs). */
const cacheFile = fileURLToPath(new URL('../rule-packs.json', import.meta.url));

interface RuleCache {
  hash: string;
  rules: (Omit<LoadedRule, 'file'> & { file: string })[];
}

/** A digest of pack sources: file names and contents. */
export function hashRulePackSources(sources: readonly RulePackSource[]): string {
  const hash = createHash('sha256');
  for (const source of sources) hash.update(`${basename(source.file)}\0${source.yaml}\0`);
  return hash.digest('hex');
}

/**
 * Loads the rules of a directory. For the shipped packs, uses the cache the build wrote when it
 * matches the YAML on disk byte for byte (so an edited pack is always re-read and re-validated);
 * `cached` says whether it did.
 */
export function loadRules(directory: string, extra: readonly RulePackSource[] = []): { rules: LoadedRule[]; cached: boolean } {
  const sources = readRulePackDirectory(directory);
  if (extra.length === 0 && directory === defaultRulesDirectory && existsSync(cacheFile)) {
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as RuleCache;
    if (cache.hash === hashRulePackSources(sources)) {
      return { rules: cache.rules.map((rule) => ({ ...rule, file: join(directory, rule.file) })), cached: true };
    }
  }
  return { rules: parseRulePacks([...sources, ...extra]), cached: false };
}
