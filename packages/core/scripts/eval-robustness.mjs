#!/usr/bin/env node
// Evasion robustness on the dev validation attacks: the whole scanner (rules plus classifier) on
// each validation injection/jailbreak row, plain and under each transformation of
// src/detect/classifier/evasion-transforms.ts. A row counts as detected when any PI, JB or RAG
// detection comes back. Validation rows are the ones models/manifest.json lists.
//
//   npx tsc -p packages/core/tsconfig.build.json && node packages/core/scripts/eval-robustness.mjs [--limit N]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(core, '../..');
const limitIndex = process.argv.indexOf('--limit');
const limit = limitIndex > 0 ? Number(process.argv[limitIndex + 1]) : 2000;
const { createScanner } = await import(join(core, 'dist/index.js'));
const { evasionTransforms } = await import(join(core, 'dist/detect/classifier/evasion-transforms.js'));

const manifest = JSON.parse(readFileSync(join(core, 'models/manifest.json'), 'utf8'));
const rows = readFileSync(resolve(root, manifest.data.file), 'utf8')
  .trim()
  .split('\n')
  .map((line, index) => ({ ...JSON.parse(line), index }));
// The trainer records the validation rows by line index (models/manifest.json, split.validationRows).
const validationRows = new Set(manifest.split.validationRows);
const attacks = rows
  .filter((row) => row.label === 1 && ['injection', 'jailbreak'].includes(row.category))
  .filter((row) => validationRows.has(row.index))
  .slice(0, limit);

const scanner = createScanner({ oversize: 'truncate' });
const families = new Set(['PI', 'JB', 'RAG']);
const detected = (text) => scanner.scan(text).detections.some((detection) => families.has(detection.family));

console.log(
  `validation attacks: ${attacks.length} (injection ${attacks.filter((r) => r.category === 'injection').length}, jailbreak ${attacks.filter((r) => r.category === 'jailbreak').length})\n`,
);
console.log('| transform | injection | jailbreak | all | drop vs plain (points) |');
console.log('|---|---|---|---|---|');
const rateOf = (transform) => {
  const hits = { injection: [0, 0], jailbreak: [0, 0] };
  for (const row of attacks) {
    const entry = hits[row.category];
    entry[1]++;
    if (detected(transform(row.text))) entry[0]++;
  }
  const all = (hits.injection[0] + hits.jailbreak[0]) / Math.max(1, hits.injection[1] + hits.jailbreak[1]);
  return {
    injection: hits.injection[0] / Math.max(1, hits.injection[1]),
    jailbreak: hits.jailbreak[0] / Math.max(1, hits.jailbreak[1]),
    all,
  };
};
const pct = (value) => `${(value * 100).toFixed(1)}%`;
const plain = rateOf((text) => text);
console.log(`| plain | ${pct(plain.injection)} | ${pct(plain.jailbreak)} | ${pct(plain.all)} | |`);
for (const [name, transform] of Object.entries(evasionTransforms)) {
  const rate = rateOf(transform);
  console.log(
    `| ${name} | ${pct(rate.injection)} | ${pct(rate.jailbreak)} | ${pct(rate.all)} | ${((plain.all - rate.all) * 100).toFixed(1)} |`,
  );
}
