#!/usr/bin/env node
// ReDoS gate: runs recheck over every pattern of every shipped rule pack and over the engine's own
// patterns. Fails on "vulnerable" or "unknown". The attack string of every pattern ever found
// vulnerable is kept in packages/core/test/fixtures/redos-attacks.json as a regression case: its
// prefixes, pumped parts and suffix, which the rule-pack test and the worst-case benchmark pump to
// any length (see redosAttackString in @palisade/core/test).
//
//   node scripts/check-redos.mjs            (needs a build: pnpm build)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from 'recheck';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const rulesDirectory = join(root, 'packages/core/rules');
const attacksFile = join(root, 'packages/core/test/fixtures/redos-attacks.json');

const patterns = [];
for (const name of readdirSync(rulesDirectory)
  .filter((file) => file.endsWith('.yaml'))
  .sort()) {
  const pack = parse(readFileSync(join(rulesDirectory, name), 'utf8'));
  for (const rule of pack.rules ?? []) {
    (rule.patterns ?? []).forEach((source, index) => {
      patterns.push({ where: `${name} ${rule.id} patterns[${index}]`, source, flags: `g${rule.flags ?? ''}` });
    });
  }
}
const internal = [
  ['packages/core/dist/decode/find-encoded-segments.js', 'segmentPatterns'],
  ['packages/core/dist/normalize/words-view.js', 'wordsViewPatterns'],
];
for (const [file, name] of internal) {
  const module = await import(join(root, file));
  for (const [index, regex] of module[name].entries()) {
    patterns.push({ where: `${file} ${name}[${index}]`, source: regex.source, flags: regex.flags });
  }
}

const attacks = existsSync(attacksFile) ? JSON.parse(readFileSync(attacksFile, 'utf8')) : [];
const failures = [];
const started = performance.now();
for (const pattern of patterns) {
  const result = await check(pattern.source, pattern.flags.replace('d', ''), { timeout: 10_000 });
  if (result.status === 'safe') continue;
  failures.push({ ...pattern, status: result.status, complexity: result.complexity?.summary, error: result.error?.kind });
  if (result.status === 'vulnerable' && result.attack && !attacks.some((item) => item.source === pattern.source)) {
    const pumps = result.attack.pumps.map((item) => ({ prefix: item.prefix, pump: item.pump }));
    attacks.push({ where: pattern.where, source: pattern.source, flags: pattern.flags, pumps, suffix: result.attack.suffix });
  }
}
writeFileSync(attacksFile, `${JSON.stringify(attacks, null, 1)}\n`);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
for (const failure of failures) {
  console.log(`${failure.status.toUpperCase()} ${failure.complexity ?? failure.error ?? ''}: ${failure.where}\n  ${failure.source}`);
}
console.log(`recheck: ${patterns.length} patterns, ${patterns.length - failures.length} safe, ${failures.length} not safe (${seconds} s)`);
process.exit(failures.length > 0 ? 1 : 0);
