#!/usr/bin/env node
// Rule lab: builds @palisade/core, runs every rule's own examples, and measures the packs on the
// dev evaluation set (../shared/eval/data/dev.jsonl). For rule authors; CI runs the examples
// through vitest.
//
//   node packages/core/scripts/rule-lab.mjs [--family PI] [--misses 20] [--benign] [--no-build]
//
// --family F   report examples, misses and benign hits for family F only (all families still run)
// --misses N   print N missed positives of the family's categories (default 0)
// --benign     print the benign rows flagged (by the family, or by anything without --family)
// --data FILE  another JSONL file in the eval format
// --without IDS   comma-separated rule ids to leave out (e.g. pi-901,jb-901: rules only, no classifier)
// --no-redos   skip the recheck ReDoS check of the family's patterns (on by default with --family;
//              CI fails on any pattern recheck calls vulnerable or unknown)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const core = resolve(here, '..');
const root = resolve(core, '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const family = option('--family');
const misses = Number(option('--misses', '0'));
const showBenign = args.includes('--benign');
const dataFile = option('--data', resolve(root, '../shared/eval/data/dev.jsonl'));

if (!args.includes('--no-build')) {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(core, 'tsconfig.build.json')], { stdio: 'inherit' });
}
const { createScanner } = await import(join(core, 'dist/index.js'));

let scanner;
try {
  const without = option('--without');
  scanner = createScanner(without ? { disabledRules: without.split(',') } : {});
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

const categoryOf = {
  PI: 'injection',
  RAG: 'injection',
  JB: 'jailbreak',
  PII: 'pii',
  SEC: 'secret',
  CMD: 'command',
  ENC: 'encoding',
  TOOL: 'tool_misuse',
  HC: 'harmful',
};

// 1. Every rule's own examples.
let exampleFailures = 0;
for (const rule of scanner.rules) {
  if (family && rule.family !== family) continue;
  for (const text of rule.examples.should_match) {
    if (!scanner.scan(text).detections.some((d) => d.ruleId === rule.id)) {
      exampleFailures++;
      console.log(`EXAMPLE FAIL ${rule.id} should match:     ${JSON.stringify(text).slice(0, 150)}`);
    }
  }
  for (const text of rule.examples.should_not_match) {
    if (scanner.scan(text).detections.some((d) => d.ruleId === rule.id)) {
      exampleFailures++;
      console.log(`EXAMPLE FAIL ${rule.id} should not match: ${JSON.stringify(text).slice(0, 150)}`);
    }
  }
}
if (family && !args.includes('--no-redos')) {
  const { check } = await import(join(root, 'node_modules/recheck/index.js'));
  const { parse } = await import(join(root, 'node_modules/yaml/dist/index.js'));
  const files = [...new Set(scanner.rules.filter((rule) => rule.family === family).map((rule) => rule.file))];
  let unsafe = 0;
  let checked = 0;
  for (const file of files) {
    for (const rule of parse(readFileSync(file, 'utf8')).rules) {
      for (const [index, source] of (rule.patterns ?? []).entries()) {
        checked++;
        const result = await check(source, `g${rule.flags ?? ''}`, { timeout: 5000 });
        if (result.status !== 'safe') {
          unsafe++;
          console.log(
            `REDOS ${result.status} (${result.complexity?.summary ?? result.error?.kind ?? ''}) ${rule.id} patterns[${index}]${result.attack ? `\n  attack: ${result.attack.pattern.slice(0, 120)}` : ''}`,
          );
        }
      }
    }
  }
  console.log(`ReDoS (recheck): ${checked} patterns of ${family}, ${unsafe} not safe (must be 0)`);
}
console.log(`\nRules per family: ${JSON.stringify(scanner.ruleCounts)}`);
console.log(`Example failures${family ? ` (${family})` : ''}: ${exampleFailures}\n`);

// 2. The dev set.
const rows = readFileSync(dataFile, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
const stats = new Map();
const stat = (category) => {
  if (!stats.has(category)) stats.set(category, { positives: 0, hits: 0, falsePositives: 0 });
  return stats.get(category);
};
const benign = rows.filter((row) => row.label === 0);
const benignFlagged = [];
const missed = [];
const started = performance.now();
for (const row of rows) {
  const detections = scanner.scan(row.text).detections;
  const categories = new Set(detections.map((d) => categoryOf[d.family]));
  if (row.label === 1) {
    const entry = stat(row.category);
    entry.positives++;
    if (categories.has(row.category)) entry.hits++;
    else if (!family || categoryOf[family] === row.category) missed.push({ row, detections });
  } else {
    const incidental = row.source.endsWith('|incidental-pii');
    for (const category of categories) {
      if (category === 'pii' && incidental) continue;
      stat(category).falsePositives++;
    }
    const relevant = detections.filter((d) => (!family || d.family === family) && !(d.family === 'PII' && incidental));
    if (relevant.length > 0) benignFlagged.push({ row, detections: relevant });
  }
}
const elapsed = performance.now() - started;
console.log(`Dev set: ${rows.length} rows (${benign.length} benign) in ${elapsed.toFixed(0)} ms\n`);
console.log('category      positives   TPR     benign flagged   FPR');
for (const [category, entry] of [...stats].sort()) {
  const tpr = entry.positives ? ((100 * entry.hits) / entry.positives).toFixed(1).padStart(5) : '  -  ';
  const fpr = ((100 * entry.falsePositives) / benign.length).toFixed(2);
  console.log(
    `${category.padEnd(13)} ${String(entry.positives).padStart(9)}   ${tpr}%   ${String(entry.falsePositives).padStart(14)}   ${fpr}%`,
  );
}
const anyFlagged = benign.filter((row) => {
  const incidental = row.source.endsWith('|incidental-pii');
  return scanner.scan(row.text).detections.some((d) => !(d.family === 'PII' && incidental));
}).length;
console.log(`\nBenign rows flagged by any rule: ${anyFlagged} of ${benign.length} (${((100 * anyFlagged) / benign.length).toFixed(2)}%)`);
console.log(`Benign rows flagged${family ? ` by ${family}` : ''}: ${benignFlagged.length}`);

const excerpt = (text) => JSON.stringify(text.length > 160 ? `${text.slice(0, 160)}…` : text);
if (showBenign) {
  for (const { row, detections } of benignFlagged) {
    const where = detections.map((d) => `${d.ruleId}@${JSON.stringify(row.text.slice(d.span.start, d.span.end).slice(0, 60))}`).join(' ');
    console.log(`  BENIGN ${row.source.slice(0, 70)}\n    ${where}\n    ${excerpt(row.text)}`);
  }
}
for (const { row } of missed.slice(0, misses)) {
  console.log(`  MISS [${row.category}] ${row.source.slice(0, 80)}\n    ${excerpt(row.text)}`);
}
