#!/usr/bin/env node
// Build step: validates the shipped rule packs (zod, every pattern compiles and cannot match the
// empty string) and writes dist/rule-packs.json, which createScanner() loads instead of parsing
// YAML when it matches the packs on disk byte for byte. Keeps yaml and zod off the cold path.
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = join(dirname(fileURLToPath(import.meta.url)), '..');
const { defaultRulesDirectory, hashRulePackSources, parseRulePacks, readRulePackDirectory } = await import(
  join(core, 'dist/rules/load-rule-packs.js')
);
const { compileRules } = await import(join(core, 'dist/rules/compile-rules.js'));

const sources = readRulePackDirectory(defaultRulesDirectory);
const rules = parseRulePacks(sources);
compileRules(rules, { verify: true });
const cache = { hash: hashRulePackSources(sources), rules: rules.map((rule) => ({ ...rule, file: basename(rule.file) })) };
writeFileSync(join(core, 'dist/rule-packs.json'), JSON.stringify(cache));
console.log(`rule cache: ${rules.length} rules from ${sources.length} packs`);
