#!/usr/bin/env node
// Rule cost: how often each rule's keywords fire on benign text and what its patterns cost there.
// For rule authors tuning keywords and patterns for speed (pnpm bench has the totals).
//
//   node packages/core/scripts/rule-cost.mjs [--size 1024] [--top 40] [--family PI] [--no-build]
//
// Per rule: µs spent in its patterns per input (averaged over 100 benign inputs of --size
// characters from the dev set), and the share of inputs whose keywords activate it. The best
// rules are rarely active and cheap when they are: pick keywords a benign text seldom contains.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(core, '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const size = Number(option('--size', '1024'));
const top = Number(option('--top', '40'));
const family = option('--family');
if (!args.includes('--no-build')) {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(core, 'tsconfig.build.json')], { stdio: 'inherit' });
}
const dist = (path) => import(join(core, 'dist', path));
const { loadRules, defaultRulesDirectory } = await dist('rules/load-rule-packs.js');
const { compileRules } = await dist('rules/compile-rules.js');
const { buildTextView } = await dist('normalize/text-view.js');
const { buildWordsView } = await dist('normalize/words-view.js');
const { windowsAround } = await dist('scanner/create-scanner.js');

const set = compileRules(loadRules(defaultRulesDirectory).rules);
const rows = readFileSync(resolve(root, '../shared/eval/data/dev.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
const benign = rows
  .filter((row) => row.label === 0 && !row.source.includes('garak'))
  .map((row) => row.text)
  .join('\n');
const step = Math.max(1, Math.floor((benign.length - size) / 100));
const inputs = Array.from({ length: 100 }, (_, index) => benign.slice(index * step, index * step + size));
const views = inputs.map((text) => {
  const textView = buildTextView(text);
  const lower = textView.text.toLowerCase();
  const wordsView = buildWordsView(textView, lower);
  const hits = new Uint8Array(set.rules.length);
  const positions = set.rules.map(() => []);
  set.textAutomaton.collectPositions(lower, hits, positions, 256);
  set.wordsAutomaton.collectPositions(wordsView.text, hits, positions, 256);
  for (const index of set.alwaysRun) hits[index] = 1;
  return { textView, wordsView, hits, positions };
});

const costs = [];
for (const rule of set.rules) {
  if (rule.detector || (family && rule.family !== family)) continue;
  let micros = 0;
  let active = 0;
  for (let round = 0; round < 5; round++) {
    for (const view of views) {
      if (!view.hits[rule.index]) continue;
      if (round === 0) active++;
      const text = rule.view === 'words' ? view.wordsView.text : view.textView.text;
      const started = performance.now();
      const windows = windowsAround(text, view.positions[rule.index], rule.reach);
      for (let index = 0; index < windows.length; index += 2) {
        const part = text.slice(windows[index], windows[index + 1]);
        for (const { regex } of rule.patterns) {
          regex.lastIndex = 0;
          for (let count = 0; count < 32 && regex.exec(part) !== null; count++) if (regex.lastIndex === 0) break;
        }
      }
      micros += (performance.now() - started) * 1000;
    }
  }
  costs.push({
    id: rule.id,
    micros: micros / (5 * views.length),
    active,
    keywords: rule.keywords.slice(0, 8).join(' | ') || '(none: always runs)',
  });
}
costs.sort((left, right) => right.micros - left.micros);
const total = costs.reduce((sum, item) => sum + item.micros, 0);
const activeAverage = costs.reduce((sum, item) => sum + item.active, 0) / views.length;
console.log(
  `${family ?? 'all'} rules on ${size}-character benign inputs: ${total.toFixed(1)} µs of patterns per input, ${activeAverage.toFixed(1)} rules active per input\n`,
);
for (const item of costs.slice(0, top)) {
  console.log(
    `${item.micros.toFixed(2).padStart(8)} µs  ${String(item.active).padStart(3)}% active  ${item.id.padEnd(8)} ${item.keywords}`,
  );
}
