#!/usr/bin/env node
// Trains the prompt-attack classifier (src/detect/classifier) on ../shared/eval/data/dev.jsonl and
// writes models/prompt-attack-classifier.bin plus models/manifest.json. Deterministic: a fixed seed
// drives the split and the SGD order; the same data and code give the same bytes.
//
//   npx tsc -p packages/core/tsconfig.build.json && node packages/core/scripts/train-classifier.mjs [--data FILE]
//
// Model: two logistic-regression heads (injection, jailbreak) with L2, trained by SGD, over the
// features of src/detect/classifier/hashed-features.ts (the trainer imports the built copy, so
// training and run time extract the same features). Weights are quantised to Int8. The injection
// head reads sentences, the jailbreak head 1,536-character windows; a positive row is a bag of
// those ranges (multiple-instance learning, see `train` and `examplesFor`).
//
// Data use:
// - positives: label-1 rows of category injection (injection head) / jailbreak (jailbreak head);
// - negatives for both heads: label-0 rows, and label-1 pii, secret and command rows (text that is
//   sensitive or hostile but is not an instruction aimed at the model);
// - left out: encoding rows (the scanner decodes them and scores what is inside), tool_misuse rows
//   (bare attacker goals such as "send money to X", neither clearly an attack nor benign as text),
//   and each head's other attack category (a jailbreak is not a negative for injection).
// Split: by source group (see groupOf), stratified by label/category/dataset, about 70% train and
// 30% validation; 20% of the train groups are held out as the calibration slice. Each head's L2
// strength is chosen on the calibration slice; Platt scaling and the threshold are fitted on the
// calibration slice pooled with 5-fold out-of-fold scores of the train rows, separately for
// documents and for inputs alone when both kinds have enough rows (FPR <= `targetFpr` on label-0
// rows, then raised while it costs at most 2 points of pooled TPR). Validation rows are never
// trained on; only validation figures are reported. TRAIN_DEBUG=1 prints the top-scoring negatives
// of each pool.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(core, '../..');
const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : fallback;
};
const dataFile = resolve(argument('--data', join(root, '../shared/eval/data/dev.jsonl')));
const seed = 20240611;
// The injection head reads sentences (an injected instruction is one sentence of an email or a
// page), the jailbreak head long windows (a jailbreak is a whole prompt's framing).
const windows = { injection: { unit: 'sentence', length: 768, stride: 384 }, jailbreak: { unit: 'window', length: 1536, stride: 768 } };
// Pooled FPR each head's threshold starts from. The jailbreak head keeps a guard band below the
// 1% target: its benign score tail is heavy (role-play and "imagine you are" tasks score near
// 1), and fitted at exactly 1% its FPR on the validation rows came out above 1% in three
// trainings (1.02%, 1.3%, 1.8%). The injection family's rules carry most of its recall, and at
// 0.5% the injection head would miss the canonical "ignore all previous instructions" email.
const targetFpr = { injection: 0.01, jailbreak: 0.005 };
const tprSlack = 0.02;
const lambdas = [3e-6, 1e-5, 3e-5, 1e-4];
const epochs = 12;

const { buildTextView } = await import(join(core, 'dist/normalize/text-view.js'));
const { buildWordsView } = await import(join(core, 'dist/normalize/words-view.js'));
const {
  createTextFeatures,
  denseCount,
  denseFeatures,
  extractText,
  featureSettings,
  forEachBucket,
  forEachUnit,
  forEachWindow,
  gramCounts,
  wordIndexAfter,
} = await import(join(core, 'dist/detect/classifier/hashed-features.js'));
const { encodeModelFile } = await import(join(core, 'dist/detect/classifier/model-file.js'));
const { createPromptAttackClassifier } = await import(join(core, 'dist/detect/classifier/prompt-attack-classifier.js'));

// ---------------------------------------------------------------- data
const raw = readFileSync(dataFile);
const dataSha256 = createHash('sha256').update(raw).digest('hex');
const rows = raw
  .toString('utf8')
  .trim()
  .split('\n')
  .map((line, index) => ({ ...JSON.parse(line), index }));
for (const row of rows) {
  const textView = buildTextView(row.text);
  row.words = buildWordsView(textView).text;
  row.dataset = datasetOf(row.source);
}

/** Deterministic PRNG (mulberry32). */
function random(state) {
  let value = state >>> 0;
  return () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(value ^ (value >>> 15), 1 | value);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, next) {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}

function datasetOf(source) {
  const base = source.includes('<-') ? source.slice(source.indexOf('<-') + 2) : source;
  return base.replace(/[:#].*$/, '');
}

/**
 * The source group of a row: rows that share the thing a model could memorise stay on one side.
 * - encoded rows (`derived:...<-X`): the group of X, the text they encode;
 * - BIPIA injections: the attack (`text_attack_test.json:Scams & Fraud`, all its variants), since
 *   the attack text is what a classifier would learn; clean BIPIA emails and code: the email/task.
 *   (Grouping by email and attack together collapses BIPIA into one component of 129 of 150 keys.)
 * - AgentDojo injections: the injection task (`banking:v1/InjectionTask3`); user tasks by task;
 * - jailbreak_llms: the prompt's row, then near-duplicates joined (see nearDuplicateGroups);
 * - Alpaca: the seed task (its instruction and output rows together);
 * - everything else: the source line, and rows with identical text joined.
 */
function groupOf(row) {
  const source = row.source.includes('<-') ? row.source.slice(row.source.indexOf('<-') + 2) : row.source;
  let match = source.match(/^microsoft\/BIPIA:.*?\+(.*?)#\d+@\w+$/);
  if (match) return `bipia-attack:${match[1].replace(/_(?:train|test)\.json/, '')}`;
  match = source.match(/^microsoft\/BIPIA:([^:]*)/);
  if (match) return `bipia:${match[1]}`;
  match = source.match(/^ethz-spylab\/agentdojo:.*?suites\/(\w+)\/.*\((v[\d_]+\/InjectionTask\d+)\)$/);
  if (match) return `agentdojo:${match[1]}:${match[2].replace(/^v[\d_]+\//, '')}`;
  match = source.match(/^ethz-spylab\/agentdojo:(\w+)[:/].*?(v[\d_]+\/(?:Injection|User)Task\d+)/);
  if (match) return `agentdojo:${match[1]}:${match[2].replace(/^v[\d_]+\//, '')}`;
  match = source.match(/^(tatsu-lab\/stanford_alpaca:seed_tasks\.jsonl:seed_task_\d+)/);
  if (match) return match[1];
  match = source.match(/^(verazuo\/jailbreak_llms:[^#]*#\d+)/);
  if (match) return match[1];
  match = source.match(/^(microsoft\/presidio-research:[^#]*#\d+)/);
  if (match) return match[1];
  return `${source}|${createHash('sha1').update(row.text).digest('hex').slice(0, 12)}`;
}

// Union-find over groups, to join near-duplicate texts (DAN variants, reposted prompts).
const parent = new Map();
const find = (key) => {
  let node = key;
  while (parent.get(node) !== node) node = parent.get(node);
  parent.set(key, node);
  return node;
};
const union = (left, right) => {
  const a = find(left);
  const b = find(right);
  // biome-ignore lint/complexity/useMathMinMax: the keys are group names (strings); Math.max would make them NaN
  if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
};
for (const row of rows) {
  row.group = groupOf(row);
  if (!parent.has(row.group)) parent.set(row.group, row.group);
}
{
  // Rows with the same opening 64 words-view characters, or sharing a rare 8-word shingle (one
  // that occurs in 2 to 6 rows), are near-duplicates. Common shingles are boilerplate, not kinship.
  const byPrefix = new Map();
  const byShingle = new Map();
  for (const row of rows) {
    // Only jailbreak prompts: BIPIA injections share their carrier email on purpose.
    if (row.label !== 1 || row.category !== 'jailbreak') continue;
    const prefix = row.words.trim().slice(0, 64);
    if (prefix.length >= 32) byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), row.group]);
    const tokens = row.words.split(/[^a-z]+/).filter(Boolean);
    const seen = new Set();
    for (let index = 0; index + 8 <= tokens.length; index++) {
      const shingle = tokens.slice(index, index + 8).join(' ');
      if (seen.has(shingle)) continue;
      seen.add(shingle);
      const list = byShingle.get(shingle);
      if (list) list.push(row.group);
      else byShingle.set(shingle, [row.group]);
    }
  }
  for (const groups of byPrefix.values()) for (const group of groups) union(groups[0], group);
  for (const groups of byShingle.values()) {
    if (groups.length >= 2 && groups.length <= 6) for (const group of groups) union(groups[0], group);
  }
}
for (const row of rows) row.group = find(row.group);

// Stratified group split: groups shuffled within each stratum (label/category/dataset of the
// group's first row); validation takes groups until it holds ~30% of the stratum's rows, then the
// calibration slice takes ~20% of the rest.
const groups = new Map();
for (const row of rows) {
  const list = groups.get(row.group);
  if (list) list.push(row);
  else groups.set(row.group, [row]);
}
const strata = new Map();
for (const [group, members] of groups) {
  const stratum = `${members[0].label}:${members[0].category}:${members[0].dataset}`;
  strata.set(stratum, [...(strata.get(stratum) ?? []), group]);
}
const side = new Map();
const next = random(seed);
for (const stratum of [...strata.keys()].sort()) {
  const list = shuffle([...strata.get(stratum)].sort(), next);
  const total = list.reduce((sum, group) => sum + groups.get(group).length, 0);
  let validation = 0;
  let calibration = 0;
  for (const group of list) {
    const size = groups.get(group).length;
    if (validation + size / 2 <= total * 0.3) {
      side.set(group, 'validation');
      validation += size;
    } else if (calibration + size / 2 <= (total - validation) * 0.2 || (calibration === 0 && total >= 10)) {
      side.set(group, 'calibration');
      calibration += size;
    } else side.set(group, 'train');
  }
}
for (const row of rows) row.side = side.get(row.group);

const negativeCategories = new Set(['pii', 'secret', 'command']);
const heads = ['injection', 'jailbreak'];
/** 1, 0, or undefined (not used) for a row and head. */
function labelFor(row, head) {
  if (row.label === 0) return 0;
  if (row.category === head) return 1;
  if (negativeCategories.has(row.category)) return 0;
  return undefined;
}

// ---------------------------------------------------------------- features
const dimension = 1 << featureSettings.hashBits;
const textFeatures = createTextFeatures();
const accumulator = new Float64Array(dimension);
const denseScratch = new Float64Array(denseCount);

/** The ranges the runtime scores for a head (see prompt-attack-classifier.ts), as [start, end] pairs; after extractText. */
function rangesOf(head) {
  const ranges = [];
  const visit = (start, end) => ranges.push([start, end]);
  if (windows[head].unit === 'sentence') forEachUnit(textFeatures, windows[head], visit);
  else forEachWindow(textFeatures.length, windows[head], visit);
  return ranges;
}

/**
 * What identifies an instance across rows: its letters only, so the same carrier sentence with
 * another amount, date or card number ("charged $446.47" / "charged $20.75") is one instance.
 */
function instanceKey(text) {
  return text.replace(/[^a-z]+/g, ' ').trim();
}

/** Sparse features of one range: sorted unique buckets, their values, and the dense features; after extractText. */
function sparseOf(start, end, tail) {
  const firstWord = wordIndexAfter(textFeatures, start);
  const endWord = wordIndexAfter(textFeatures, end);
  const [charGrams, wordGrams] = gramCounts(textFeatures, start, end, firstWord, endWord);
  const charNorm = charGrams > 0 ? 1 / Math.sqrt(charGrams) : 0;
  const wordNorm = wordGrams > 0 ? 1 / Math.sqrt(wordGrams) : 0;
  const touched = [];
  forEachBucket(textFeatures, start, end, (bucket, character) => {
    if (accumulator[bucket] === 0) touched.push(bucket);
    accumulator[bucket] += character ? charNorm : wordNorm;
  });
  touched.sort((a, b) => a - b);
  const indices = Int32Array.from(touched);
  const values = new Float64Array(touched.length);
  touched.forEach((bucket, index) => {
    values[index] = accumulator[bucket];
    accumulator[bucket] = 0;
  });
  denseFeatures(textFeatures, start, end, firstWord, endWord, denseScratch, tail);
  return { indices, values, dense: Float64Array.from(denseScratch) };
}

const started = performance.now();
for (const row of rows) {
  if (row.side === 'validation') continue;
  if (heads.every((head) => labelFor(row, head) === undefined)) continue;
  extractText(row.words, textFeatures);
  row.document = textFeatures.document;
  row.examples = Object.fromEntries(
    heads.map((head) => [
      head,
      rangesOf(head).map(([start, end]) => ({
        ...sparseOf(start, end, windows[head].unit !== 'sentence'),
        key: instanceKey(row.words.slice(start, end)),
      })),
    ]),
  );
}
console.error(`features: ${((performance.now() - started) / 1000).toFixed(1)} s`);
{
  const sizes = [...groups.values()].map((members) => members.length).sort((a, b) => b - a);
  console.error(`groups: ${groups.size}, largest ${sizes.slice(0, 5).join(', ')}`);
  const bySide = {};
  for (const row of rows) {
    const key = `${row.side}:${row.label}:${row.category}`;
    bySide[key] = (bySide[key] ?? 0) + 1;
  }
  console.error(bySide);
}

// ---------------------------------------------------------------- training
const sigmoid = (value) => 1 / (1 + Math.exp(-value));

/** SGD for L2-regularised logistic regression (Bottou's schedule, weight-scale trick for L2). */
function train(examples, lambda, trainSeed) {
  const weights = new Float64Array(dimension);
  const dense = new Float64Array(denseCount);
  let bias = 0;
  let scale = 1;
  const positives = examples.filter((example) => example.y === 1).length;
  const eta0 = 0.5;
  const weightOf = [examples.length / (2 * (examples.length - positives)), examples.length / (2 * positives)];
  const order = examples.map((_, index) => index);
  const next = random(trainSeed);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(order, next);
    const warm = epoch < 2;
    for (const index of order) {
      const example = examples[index];
      const y = example.y;
      // Warm start on single-instance rows only: the first model then ranks an instruction above
      // the carrier text around it (an email's own sentences look like the clean rows), so the
      // highest-scoring instance of a bag is the attack when multiple-instance training begins.
      if (example.bag && warm) continue;
      let x = example.x;
      if (example.bag) {
        let best = Number.NEGATIVE_INFINITY;
        for (const candidate of example.bag) {
          const margin = marginOf({ weights, dense, bias }, candidate, scale);
          if (margin > best) [best, x] = [margin, candidate];
        }
      }
      step = sgdStep(x, y, step);
    }
  }
  function sgdStep(x, y, step) {
    const eta = eta0 / (1 + lambda * eta0 * step);
    step++;
    let dot = 0;
    for (let k = 0; k < x.indices.length; k++) dot += weights[x.indices[k]] * x.values[k];
    let margin = bias + scale * dot;
    for (let k = 0; k < denseCount; k++) margin += dense[k] * x.dense[k];
    const gradient = (sigmoid(margin) - y) * weightOf[y];
    scale *= 1 - eta * lambda;
    const update = (eta * gradient) / scale;
    for (let k = 0; k < x.indices.length; k++) weights[x.indices[k]] -= update * x.values[k];
    for (let k = 0; k < denseCount; k++) dense[k] -= eta * (gradient * x.dense[k] + lambda * dense[k]);
    bias -= eta * gradient * 0.1;
    if (scale < 1e-6) {
      for (let k = 0; k < dimension; k++) weights[k] *= scale;
      scale = 1;
    }
    return step;
  }
  for (let k = 0; k < dimension; k++) weights[k] *= scale;
  return { weights, dense: [...dense], bias };
}

/**
 * Training bags: a negative row gives every window as a negative; a positive row is a bag whose
 * windows are all positives for the first epochs, then only its highest-scoring window (multiple
 * instance learning: the runtime takes the max over windows, and an injection sits in one place).
 */
function examplesFor(head, sideName, keep = () => true) {
  // The multiple-instance assumption: a negative row holds only negative instances, so an instance
  // of a positive row that also occurs in a negative row (the carrier email around an injection)
  // is not a candidate for the attack.
  const negativeKeys = new Set();
  for (const row of rows) {
    if (row.side === sideName && row.examples && keep(row) && labelFor(row, head) === 0) {
      for (const x of row.examples[head]) negativeKeys.add(x.key);
    }
  }
  const examples = [];
  for (const row of rows) {
    if (row.side !== sideName || !row.examples || !keep(row)) continue;
    const y = labelFor(row, head);
    if (y === undefined) continue;
    let bag = row.examples[head];
    if (y === 1 && bag.length > 1) {
      const candidates = bag.filter((x) => !negativeKeys.has(x.key));
      if (candidates.length > 0) bag = candidates;
    }
    if (y === 0 || bag.length === 1) for (const x of bag) examples.push({ x, y });
    else examples.push({ bag, y });
  }
  return examples;
}

function marginOf(model, x, scale = 1) {
  let dot = 0;
  for (let k = 0; k < x.indices.length; k++) dot += model.weights[x.indices[k]] * x.values[k];
  let margin = model.bias + scale * dot;
  for (let k = 0; k < denseCount; k++) margin += model.dense[k] * x.dense[k];
  return margin;
}

/** Quantises float heads into one interleaved Int8 array. */
function quantise(models) {
  const weights = new Int8Array(dimension * models.length);
  const scales = models.map((model) => {
    let largest = 0;
    for (const value of model.weights) largest = Math.max(largest, Math.abs(value));
    return largest / 127 || 1;
  });
  models.forEach((model, head) => {
    for (let bucket = 0; bucket < dimension; bucket++) {
      weights[bucket * models.length + head] = Math.max(-127, Math.min(127, Math.round(model.weights[bucket] / scales[head])));
    }
  });
  return { weights, scales };
}

function encode(models, calibration) {
  const { weights, scales } = quantise(models);
  const header = {
    format: 'palisade-prompt-attack-classifier',
    version: 3,
    hashBits: featureSettings.hashBits,
    charGramLengths: featureSettings.charGramLengths,
    wordGramMax: featureSettings.wordGramMax,
    tailLength: featureSettings.tailLength,
    documentSentences: featureSettings.documentSentences,
    documentLength: featureSettings.documentLength,
    unitMin: featureSettings.unitMin,
    denseNames: [...featureSettings.denseNames],
    heads: heads.map((name, index) => ({
      name,
      unit: windows[name].unit,
      window: { length: windows[name].length, stride: windows[name].stride },
      bias: round(models[index].bias),
      scale: scales[index],
      dense: models[index].dense.map(round),
      platt: calibration?.[index]?.platt ?? { a: 1, b: 0 },
      threshold: calibration?.[index]?.threshold ?? 0.5,
      ...(calibration?.[index]?.alone
        ? { alone: { platt: calibration[index].alone.platt, threshold: calibration[index].alone.threshold } }
        : {}),
    })),
    provenance: { data: relative(root, dataFile), dataSha256, seed, trainer: 'packages/core/scripts/train-classifier.mjs' },
  };
  return encodeModelFile({ header, weights });
}

const round = (value) => Math.round(value * 1e6) / 1e6;

/** Rows of a side with their label for a head, and the label-0 rows (for FPR). */
function rowsFor(head, sideName) {
  return rows.filter((row) => row.side === sideName && labelFor(row, head) !== undefined);
}

/** Smallest threshold on scores whose FPR over label-0 rows is at most `target`. */
function thresholdFor(negativeScores, target) {
  const sorted = [...negativeScores].sort((a, b) => b - a);
  const allowed = Math.floor(target * sorted.length);
  const boundary = sorted[allowed] ?? Number.NEGATIVE_INFINITY;
  return boundary;
}

/** Platt scaling by Newton's method, with Platt's smoothed targets. */
function fitPlatt(margins, labels) {
  const positives = labels.filter((label) => label === 1).length;
  const negatives = labels.length - positives;
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  let a = 1;
  let b = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 1e-9;
    let h01 = 0;
    let h11 = 1e-9;
    margins.forEach((margin, index) => {
      const target = labels[index] === 1 ? high : low;
      const p = sigmoid(a * margin + b);
      const d = p - target;
      const w = p * (1 - p);
      g0 += d * margin;
      g1 += d;
      h00 += w * margin * margin;
      h01 += w * margin;
      h11 += w;
    });
    const determinant = h00 * h11 - h01 * h01;
    const da = (h11 * g0 - h01 * g1) / determinant;
    const db = (h00 * g1 - h01 * g0) / determinant;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a: round(a), b: round(b) };
}

/** TPR at the FPR target on the calibration slice, for choosing L2 strength. */
function calibrationTpr(model, head) {
  const score = (row) => {
    let best = Number.NEGATIVE_INFINITY;
    for (const x of row.examples[head]) best = Math.max(best, marginOf(model, x));
    return best;
  };
  const slice = rowsFor(head, 'calibration');
  const negatives = slice.filter((row) => row.label === 0).map(score);
  const threshold = thresholdFor(negatives, 0.01);
  const positives = slice.filter((row) => labelFor(row, head) === 1).map(score);
  return positives.filter((value) => value > threshold).length / Math.max(1, positives.length);
}

const models = [];
const chosen = {};
for (const [headIndex, head] of heads.entries()) {
  const examples = examplesFor(head, 'train');
  let best;
  for (const lambda of lambdas) {
    const model = train(examples, lambda, seed + headIndex);
    const tpr = calibrationTpr(model, head);
    console.error(`${head}: lambda ${lambda} -> calibration TPR ${(tpr * 100).toFixed(1)}% at FPR <= 1%`);
    if (!best || tpr > best.tpr) best = { model, tpr, lambda };
  }
  models.push(best.model);
  chosen[head] = { lambda: best.lambda, calibrationTpr: round(best.tpr), trainExamples: examples.length };
}

// Out-of-fold margins of the train rows (5 folds by source group, each scored by a model trained
// on the other four), pooled with the calibration slice's margins from the final model: Platt
// scaling and the threshold are fitted on ~5x more negatives than the slice alone holds, so one
// unusual benign row does not decide the threshold.
const folds = 5;
const foldOf = (row) => Number.parseInt(createHash('sha1').update(row.group).digest('hex').slice(0, 8), 16) % folds;
const outOfFold = heads.map((head, headIndex) => {
  const pooled = [];
  for (let fold = 0; fold < folds; fold++) {
    const model = train(
      examplesFor(head, 'train', (row) => foldOf(row) !== fold),
      chosen[head].lambda,
      seed + headIndex,
    );
    for (const row of rowsFor(head, 'train')) {
      if (foldOf(row) !== fold || !row.examples) continue;
      let best = Number.NEGATIVE_INFINITY;
      for (const x of row.examples[head]) best = Math.max(best, marginOf(model, x));
      pooled.push({ margin: best, label: labelFor(row, head), row });
    }
  }
  return pooled;
});

// Calibrate the quantised model exactly as it runs: margins from the runtime scorer.
const uncalibrated = createPromptAttackClassifier(encode(models));
const calibration = heads.map((head, index) => {
  const slice = rowsFor(head, 'calibration');
  const pooled = [
    ...outOfFold[index],
    ...slice.map((row) => ({ margin: uncalibrated.margins(row.words)[index], label: labelFor(row, head), row })),
  ];
  // Documents and inputs alone are calibrated apart when each kind has enough rows of both labels.
  const documents = pooled.filter(({ row }) => row.document);
  const alone = pooled.filter(({ row }) => !row.document);
  const enough = (part) => part.filter(({ label }) => label === 0).length >= 100 && part.filter(({ label }) => label === 1).length >= 50;
  if (!enough(documents) || !enough(alone)) return { ...calibrate(head, pooled, 'all'), rows: pooled.length };
  return { ...calibrate(head, documents, 'documents'), alone: calibrate(head, alone, 'alone'), rows: pooled.length };
});

/** Platt scaling and threshold for one pool of margins (see the header comment). */
function calibrate(head, pooled, kind) {
  const platt = fitPlatt(
    pooled.map(({ margin }) => margin),
    pooled.map(({ label }) => label),
  );
  if (process.env.TRAIN_DEBUG) {
    for (const { margin, row } of pooled
      .filter(({ label }) => label === 0)
      .sort((a, b) => b.margin - a.margin)
      .slice(0, 8)) {
      console.error(
        `  ${head}/${kind} top negative ${sigmoid(platt.a * margin + platt.b).toFixed(3)} ${row.side} ${row.source.slice(0, 60)} ${JSON.stringify(row.text.slice(0, 70))}`,
      );
    }
  }
  const boundary = thresholdFor(
    pooled.filter(({ label }) => label === 0).map(({ margin }) => sigmoid(platt.a * margin + platt.b)),
    targetFpr[head],
  );
  // Fire strictly above the highest allowed negative: the next representable step up.
  const floor = Math.min(0.999, Math.max(0.5, boundary + 1e-6));
  // Then move up while it costs at most `tprSlack` of pooled TPR: benign text unlike anything in
  // the pool (the held-out set's) gets a margin of safety where the positives allow it.
  const positives = pooled
    .filter(({ label }) => label === 1)
    .map(({ margin }) => sigmoid(platt.a * margin + platt.b))
    .sort((a, b) => a - b);
  const tprAt = (value) => positives.filter((probability) => probability >= value).length / Math.max(1, positives.length);
  const allowedTpr = tprAt(floor) - tprSlack;
  let threshold = floor;
  for (const candidate of positives) {
    if (candidate > threshold && candidate <= 0.999 && tprAt(candidate) >= allowedTpr) threshold = candidate;
  }
  return {
    platt,
    threshold: round(threshold),
    floor: round(floor),
    pooledTpr: round(tprAt(threshold)),
    negatives: pooled.length - positives.length,
    positives: positives.length,
  };
}
const bytes = encode(models, calibration);
const classifier = createPromptAttackClassifier(bytes);

// ---------------------------------------------------------------- validation figures
const validationRows = rows.filter((row) => row.side === 'validation');
const scored = validationRows.map((row) => {
  const { scores, thresholds } = classifier.evaluate(row.words);
  return {
    row,
    scores,
    fires: { injection: scores.injection >= thresholds.injection, jailbreak: scores.jailbreak >= thresholds.jailbreak },
  };
});
const figures = {};
for (const head of heads) {
  const threshold = classifier.thresholds[head];
  const byCategory = {};
  for (const { row, fires } of scored) {
    const key = row.label === 0 ? `benign:${row.dataset}` : `${row.category}:${row.dataset}`;
    byCategory[key] ??= { rows: 0, flagged: 0 };
    const entry = byCategory[key];
    entry.rows++;
    if (fires[head]) entry.flagged++;
  }
  const positives = scored.filter(({ row }) => row.label === 1 && row.category === head);
  const negatives = scored.filter(({ row }) => row.label === 0);
  const tp = positives.filter(({ fires }) => fires[head]).length;
  const fp = negatives.filter(({ fires }) => fires[head]).length;
  figures[head] = {
    threshold,
    tpr: round(tp / positives.length),
    fpr: round(fp / negatives.length),
    positives: positives.length,
    negatives: negatives.length,
    auc: round(
      auc(
        positives.map(({ scores }) => scores[head]),
        negatives.map(({ scores }) => scores[head]),
      ),
    ),
    byCategory: Object.fromEntries(
      Object.entries(byCategory)
        .sort()
        .map(([key, { rows: count, flagged }]) => [key, { rows: count, flagged, rate: round(flagged / count) }]),
    ),
  };
}

function auc(positive, negative) {
  let wins = 0;
  for (const p of positive) for (const n of negative) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / Math.max(1, positive.length * negative.length);
}

// ---------------------------------------------------------------- outputs
const modelsDirectory = join(core, 'models');
mkdirSync(modelsDirectory, { recursive: true });
writeFileSync(join(modelsDirectory, 'prompt-attack-classifier.bin'), bytes);
const count = (sideName) => rows.filter((row) => row.side === sideName).length;
const manifest = {
  model: 'prompt-attack-classifier.bin',
  bytes: bytes.length,
  modelSha256: createHash('sha256').update(bytes).digest('hex'),
  data: { file: relative(root, dataFile), sha256: dataSha256, rows: rows.length },
  seed,
  split: {
    method: 'by source group (see groupOf in the trainer), stratified by label/category/dataset; near-duplicate attacks joined',
    rows: { train: count('train'), calibration: count('calibration'), validation: count('validation') },
    groups: {
      train: [...side.values()].filter((value) => value === 'train').length,
      calibration: [...side.values()].filter((value) => value === 'calibration').length,
      validation: [...side.values()].filter((value) => value === 'validation').length,
    },
    validationRows: rows.filter((row) => row.side === 'validation').map((row) => row.index),
    validationGroups: [...side.entries()]
      .filter(([, value]) => value === 'validation')
      .map(([group]) => group)
      .sort(),
    calibrationGroups: [...side.entries()]
      .filter(([, value]) => value === 'calibration')
      .map(([group]) => group)
      .sort(),
  },
  labels: {
    positives: { injection: 'label 1, category injection', jailbreak: 'label 1, category jailbreak' },
    negatives: 'label 0 rows, and label-1 pii, secret and command rows, for both heads',
    leftOut: "encoding and tool_misuse rows; each head leaves out the other head's positives",
  },
  features: { ...featureSettings, denseNames: [...featureSettings.denseNames], windows },
  training: { algorithm: 'SGD, L2, class-balanced, Bottou schedule eta0=0.5', epochs, lambdas, chosen },
  calibration: Object.fromEntries(heads.map((head, index) => [head, calibration[index]])),
  thresholdRule: `smallest threshold with FPR <= ${targetFpr.injection * 100}% (injection) or ${targetFpr.jailbreak * 100}% (jailbreak) on the label-0 rows of the calibration slice and the train rows' out-of-fold scores (at least 0.5), then raised while the pooled TPR drops by at most ${tprSlack * 100} point`,
  validation: figures,
};
writeFileSync(join(modelsDirectory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

console.log(
  `model: ${bytes.length} bytes; rows train ${count('train')}, calibration ${count('calibration')}, validation ${count('validation')}`,
);
for (const head of heads) {
  const figure = figures[head];
  console.log(
    `${head}: threshold ${figure.threshold}  validation TPR ${(figure.tpr * 100).toFixed(1)}% (${figure.positives})  FPR ${(figure.fpr * 100).toFixed(2)}% (${figure.negatives})  AUC ${figure.auc}`,
  );
  for (const [key, value] of Object.entries(figure.byCategory)) console.log(`   ${key.padEnd(46)} ${value.flagged}/${value.rows}`);
}
