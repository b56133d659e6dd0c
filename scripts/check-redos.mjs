#!/usr/bin/env node
// ReDoS gate: runs recheck over every pattern of every shipped rule pack (the YAML packs of
// @palisade/core and the tool-poisoning pack of the MCP proxy) and over the engine's own
// patterns. Fails on "vulnerable" or "unknown". The attack string of every pattern ever found
// vulnerable is kept in packages/core/test/fixtures/redos-attacks.json as a regression case: its
// prefixes, pumped parts and suffix, which the rule-pack test and the worst-case benchmark pump to
// any length (see redosAttackString in @palisade/core/test).
//
//   node scripts/check-redos.mjs            (needs a build: pnpm build)
//   node scripts/check-redos.mjs --all      (ignore the verdict cache and check every pattern)
//
// Verdicts are cached in packages/core/test/fixtures/redos-verdicts.json, keyed by recheck's
// version, the pattern and its flags: recheck's fuzz checker takes seconds per pattern, so CI
// checks only patterns it has not judged safe before. The fuzz seed is fixed, so a verdict does
// not change between runs of the same version; only "safe" verdicts are cached.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from 'recheck';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const rulesDirectory = join(root, 'packages/core/rules');
const attacksFile = join(root, 'packages/core/test/fixtures/redos-attacks.json');
const verdictsFile = join(root, 'packages/core/test/fixtures/redos-verdicts.json');
const recheckVersion = JSON.parse(readFileSync(join(root, 'node_modules/recheck/package.json'), 'utf8')).version;
const all = process.argv.includes('--all');

const patterns = [];
const addPack = (label, pack) => {
  for (const rule of pack.rules ?? []) {
    (rule.patterns ?? []).forEach((source, index) => {
      patterns.push({ where: `${label} ${rule.id} patterns[${index}]`, source, flags: `g${rule.flags ?? ''}` });
    });
  }
};
for (const name of readdirSync(rulesDirectory)
  .filter((file) => file.endsWith('.yaml'))
  .sort()) {
  addPack(name, parse(readFileSync(join(rulesDirectory, name), 'utf8')));
}
// Packs shipped inside other packages' code, in the same schema.
const embeddedPacks = [['packages/mcp-server/dist/proxy/tool-poisoning-pack.js', 'toolPoisoningPack']];
for (const [file, name] of embeddedPacks) {
  const module = await import(join(root, file));
  addPack(`${file} ${name}`, parse(module[name]));
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
const cached = existsSync(verdictsFile) && !all ? JSON.parse(readFileSync(verdictsFile, 'utf8')) : {};
const safe = new Set(cached.recheck === recheckVersion ? cached.safe : []);
const keyOf = (pattern) => `${pattern.flags.replace('d', '')}/${pattern.source}`;
const failures = [];
const verdicts = new Set();
const started = performance.now();
let checked = 0;
const queue = patterns.filter((pattern) => {
  if (!safe.has(keyOf(pattern))) return true;
  verdicts.add(keyOf(pattern));
  return false;
});
// Two at a time: the checks run in recheck's native worker, one per call.
const worker = async () => {
  for (let pattern = queue.shift(); pattern !== undefined; pattern = queue.shift()) {
    checked++;
    const result = await check(pattern.source, pattern.flags.replace('d', ''), { timeout: 30_000, randomSeed: 20_261_122 });
    if (result.status === 'safe') {
      verdicts.add(keyOf(pattern));
      continue;
    }
    failures.push({ ...pattern, status: result.status, complexity: result.complexity?.summary, error: result.error?.kind });
    if (result.status === 'vulnerable' && result.attack && !attacks.some((item) => item.source === pattern.source)) {
      const pumps = result.attack.pumps.map((item) => ({ prefix: item.prefix, pump: item.pump }));
      attacks.push({ where: pattern.where, source: pattern.source, flags: pattern.flags, pumps, suffix: result.attack.suffix });
    }
  }
};
await Promise.all([worker(), worker()]);
writeFileSync(attacksFile, `${JSON.stringify(attacks, null, 1)}\n`);
if (!process.env.CI) writeFileSync(verdictsFile, `${JSON.stringify({ recheck: recheckVersion, safe: [...verdicts].sort() }, null, 1)}\n`);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
for (const failure of failures) {
  console.log(`${failure.status.toUpperCase()} ${failure.complexity ?? failure.error ?? ''}: ${failure.where}\n  ${failure.source}`);
}
console.log(
  `recheck: ${patterns.length} patterns (${checked} checked, ${patterns.length - checked} safe by cached verdict), ${failures.length} not safe (${seconds} s)`,
);
process.exit(failures.length > 0 ? 1 : 0);
