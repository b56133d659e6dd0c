// Adapter for ../shared/eval/peers/run.mjs: scores Palisade's built core beside the peer libraries.
//   cd ../shared/eval/peers && node run.mjs ../data/dev.jsonl --adapter "$PWD/../../../main/bench/eval-adapter.mjs"
// Families map to the eval categories: PI and RAG -> injection, JB -> jailbreak, PII -> pii,
// SEC -> secret, CMD -> command, ENC -> encoding (TOOL and HC have no eval category).
import { createScanner } from '../packages/core/dist/index.js';

const categoryOf = { PI: 'injection', RAG: 'injection', JB: 'jailbreak', PII: 'pii', SEC: 'secret', CMD: 'command', ENC: 'encoding' };
const scanner = createScanner({ oversize: 'truncate' });

export const name = 'palisade';
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
