// Adapter for ../shared/eval/peers/run.mjs: scores Palisade's built core beside the peer libraries.
//   cd ../shared/eval/peers && node run.mjs ../data/dev.jsonl --adapter "$PWD/../../../main/bench/eval-adapter.mjs"
// Families map to the eval categories: PI and RAG -> injection, JB -> jailbreak, PII -> pii,
// SEC -> secret, CMD -> command, ENC -> encoding (TOOL and HC have no eval category).
import { createScanner } from '../packages/core/dist/index.js';

const categoryOf = { PI: 'injection', RAG: 'injection', JB: 'jailbreak', PII: 'pii', SEC: 'secret', CMD: 'command', ENC: 'encoding' };
// PALISADE_WITHOUT=pi-901,jb-901 scores the rules alone (the learned classifier left out).
const without = process.env.PALISADE_WITHOUT ? process.env.PALISADE_WITHOUT.split(',') : [];
const scanner = createScanner({ oversize: 'truncate', disabledRules: without });

export const name = without.length > 0 ? `palisade (without ${without.join(', ')})` : 'palisade';
export const version = '0.1.0';
export const categories = ['injection', 'jailbreak', 'pii', 'secret', 'command', 'encoding'];

export async function detect(text) {
  const { detections } = scanner.scan(text);
  const found = new Set();
  for (const detection of detections) {
    const category = categoryOf[detection.family];
    if (category) found.add(category);
  }
  return { flagged: detections.length > 0, categories: [...found] };
}
