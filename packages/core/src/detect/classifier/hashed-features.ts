/**
 * Feature extraction for the prompt-attack classifier, shared by the runtime and the trainer
 * (`scripts/train-classifier.mjs` imports the built copy), so both see exactly the same features.
 *
 * Features are read from a range of the words view:
 * - hashed character 3-5 grams and word 1-2 grams (polynomial and FNV-1a hashes over char codes, no string per n-gram),
 *   each family scaled by 1/sqrt(its n-gram count) so long and short texts score alike;
 * - a few dense features: instruction-verb density, second-person density, imperative sentence
 *   starts, role markers (`system:`, `assistant:`), and the shape of the last 256 characters
 *   (symbol ratio, character entropy, symbol-laden tokens) for optimiser-made suffixes.
 */

/** Feature settings; the model file records them and the loader checks they match. */
export const featureSettings = {
  /** log2 of the number of hash buckets. */
  hashBits: 19,
  charGramMin: 3,
  charGramMax: 5,
  wordGramMax: 2,
  /** Characters of the range's end read for the suffix features. */
  tailLength: 256,
  denseNames: [
    'instruction-verbs',
    'second-person',
    'imperative-starts',
    'role-markers',
    'tail-symbols',
    'tail-entropy',
    'tail-odd-tokens',
    'non-ascii',
  ],
} as const;

export const denseCount = featureSettings.denseNames.length;

const fnvPrime = 0x01000193;
const power1 = 0x01000193;
const power2 = Math.imul(power1, power1);
const power3 = Math.imul(power2, power1);
const power4 = Math.imul(power3, power1);
const salt3 = 0x3c6ef372;
const salt4 = 0x5b4a1f0d;
const salt5 = 0x7f4a7c15;

/** murmur3's finaliser: spreads a hash over all bits. */
function finish(hash: number): number {
  let mixed = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}
const wordSeed = 0x9e3779b9;

/** FNV-1a of a lower-case ASCII word, as the extractor computes it. */
function wordHash(word: string): number {
  let hash = wordSeed;
  for (let index = 0; index < word.length; index++) hash = Math.imul(hash ^ word.charCodeAt(index), fnvPrime);
  return hash >>> 0;
}

// Verbs that open an instruction aimed at a model.
const instructionVerbs = [
  'ignore',
  'disregard',
  'forget',
  'override',
  'bypass',
  'skip',
  'pretend',
  'act',
  'roleplay',
  'imagine',
  'simulate',
  'respond',
  'reply',
  'answer',
  'say',
  'print',
  'output',
  'reveal',
  'repeat',
  'write',
  'generate',
  'send',
  'forward',
  'delete',
  'execute',
  'run',
  'include',
  'insert',
  'add',
  'tell',
  'give',
  'provide',
  'show',
  'list',
  'share',
  'stop',
  'begin',
  'start',
  'follow',
  'obey',
  'comply',
  'remember',
  'enable',
  'disable',
  'activate',
  'become',
  'stay',
  'never',
  'always',
  'do',
  'dont',
  'make',
  'use',
  'translate',
  'append',
  'mention',
  'transfer',
  'email',
  'post',
  'visit',
  'open',
];
const secondPerson = ['you', 'your', 'yours', 'yourself', 'youre', 'ur', 'u'];
const roleWords = [
  'system',
  'assistant',
  'user',
  'human',
  'ai',
  'developer',
  'model',
  'instruction',
  'instructions',
  'bot',
  'chatgpt',
  'gpt',
  'admin',
  'sudo',
  'dan',
  'prompt',
  'important',
  'note',
  'assistant_response',
];

/** Reusable buffers one extraction writes into; sized for ranges up to `maxLength` characters. */
export interface FeatureBuffer {
  /** Bucket of each hashed n-gram: character grams first, then word grams. */
  buckets: Uint32Array;
  /** Number of character grams written. */
  charGrams: number;
  /** Number of word grams written (they follow the character grams). */
  wordGrams: number;
  dense: Float64Array;
  /** Scratch: character counts for the tail entropy. */
  histogram: Uint16Array;
  maxLength: number;
}

export function createFeatureBuffer(maxLength: number): FeatureBuffer {
  const { charGramMin, charGramMax, wordGramMax } = featureSettings;
  return {
    buckets: new Uint32Array(maxLength * (charGramMax - charGramMin + 1) + maxLength * wordGramMax + 8),
    charGrams: 0,
    wordGrams: 0,
    dense: new Float64Array(denseCount),
    histogram: new Uint16Array(128),
    maxLength,
  };
}

const verbFlag = 1;
const youFlag = 2;
const roleFlag = 4;
// An open-addressing table from word hash to flags: a typed-array probe costs a few
// nanoseconds, where a Set lookup per word dominated extraction.
const lexiconBits = 10;
const lexiconKeys = new Uint32Array(1 << lexiconBits);
const lexiconFlags = new Uint8Array(1 << lexiconBits);
for (const [words, flag] of [
  [instructionVerbs, verbFlag],
  [secondPerson, youFlag],
  [roleWords, roleFlag],
] as const) {
  for (const word of words) {
    const hash = wordHash(word);
    let slot = hash & ((1 << lexiconBits) - 1);
    while (lexiconFlags[slot] !== 0 && lexiconKeys[slot] !== hash) slot = (slot + 1) & ((1 << lexiconBits) - 1);
    lexiconKeys[slot] = hash;
    lexiconFlags[slot] = (lexiconFlags[slot] as number) | flag;
  }
}

function flagsOf(hash: number): number {
  let slot = hash & ((1 << lexiconBits) - 1);
  for (;;) {
    const flags = lexiconFlags[slot] as number;
    if (flags === 0) return 0;
    if (lexiconKeys[slot] === hash) return flags;
    slot = (slot + 1) & ((1 << lexiconBits) - 1);
  }
}

const isWordCode = (code: number) => (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code > 127;
const isSentenceEnd = (code: number) => code === 46 || code === 33 || code === 63 || code === 58 || code === 59 || code === 10;

/**
 * Extracts the features of `text[start, end)` into `out`. `end - start` must not exceed
 * `out.maxLength`. Allocates nothing.
 */
export function extractFeatures(text: string, start: number, end: number, out: FeatureBuffer): void {
  const length = end - start;
  if (length > out.maxLength) throw new RangeError(`feature range ${length} exceeds the buffer (${out.maxLength})`);
  // Three small loops rather than one large function: V8 optimises each far better.
  out.charGrams = charGrams(text, start, end, out.buckets);
  out.wordGrams = wordGrams(text, start, end, out.buckets, out.charGrams, out.dense) - out.charGrams;
  tailFeatures(text, start, end, out.histogram, out.dense);
}

const mask = (1 << featureSettings.hashBits) - 1;

/** Writes the buckets of the character 3-5 grams from index 0; returns how many. */
function charGrams(text: string, start: number, end: number, buckets: Uint32Array): number {
  // Character 3-5 grams, each hashed once at its last character: a polynomial hash extended to the
  // left (g4 = g3 + c[i-3]·P³), so a position costs one character read and a few multiplies.
  let count = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let c4 = 0;
  for (let position = start; position < end; position++) {
    const c0 = text.charCodeAt(position);
    const seen = position - start;
    if (seen >= 2) {
      const g3 = (Math.imul(c2, power2) + Math.imul(c1, power1) + c0) | 0;
      buckets[count++] = finish(g3 ^ salt3) & mask;
      if (seen >= 3) {
        const g4 = (g3 + Math.imul(c3, power3)) | 0;
        buckets[count++] = finish(g4 ^ salt4) & mask;
        if (seen >= 4) buckets[count++] = finish((g4 + Math.imul(c4, power4)) ^ salt5) & mask;
      }
    }
    c4 = c3;
    c3 = c2;
    c2 = c1;
    c1 = c0;
  }
  return count;
}

/**
 * Writes the buckets of the word 1-2 grams from index `count` and the lexical dense features;
 * returns the new count.
 */
function wordGrams(text: string, start: number, end: number, buckets: Uint32Array, first: number, dense: Float64Array): number {
  let count = first;
  let words = 0;
  let verbs = 0;
  let you = 0;
  let sentences = 0;
  let imperativeStarts = 0;
  let roles = 0;
  let nonAscii = 0;
  let previous = 0;
  let sentenceStart = true;
  let position = start;
  while (position < end) {
    const code = text.charCodeAt(position);
    if (!isWordCode(code)) {
      if (isSentenceEnd(code)) sentenceStart = true;
      position++;
      continue;
    }
    let hash = wordSeed;
    while (position < end) {
      const inner = text.charCodeAt(position);
      if (!isWordCode(inner)) break;
      if (inner > 127) nonAscii++;
      hash = Math.imul(hash ^ inner, fnvPrime);
      position++;
    }
    hash >>>= 0;
    words++;
    const unigram = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b);
    buckets[count++] = (unigram ^ (unigram >>> 16)) & mask;
    if (previous !== 0) {
      const bigram = Math.imul((previous ^ Math.imul(hash, 0x27d4eb2d)) >>> 0, 0x165667b1);
      buckets[count++] = (bigram ^ (bigram >>> 15)) & mask;
    }
    previous = hash;
    const flags = flagsOf(hash);
    const isVerb = (flags & verbFlag) !== 0;
    if (isVerb) verbs++;
    if ((flags & youFlag) !== 0) you++;
    if (sentenceStart) {
      sentences++;
      if (isVerb) imperativeStarts++;
      sentenceStart = false;
    }
    if (position < end && text.charCodeAt(position) === 58 && (flags & roleFlag) !== 0) roles++;
  }
  const length = end - start;
  const perWord = words > 0 ? 1 / words : 0;
  dense[0] = Math.min(1, verbs * perWord * 6);
  dense[1] = Math.min(1, you * perWord * 8);
  dense[2] = sentences > 0 ? imperativeStarts / sentences : 0;
  dense[3] = Math.min(1, roles / 2);
  dense[7] = length > 0 ? Math.min(1, (nonAscii / length) * 4) : 0;
  return count;
}

/**
 * The tail: optimiser-made suffixes are dense in symbols, high in entropy, and mix letters with
 * punctuation inside one token.
 */
function tailFeatures(text: string, start: number, end: number, histogram: Uint16Array, dense: Float64Array): void {
  const tailStart = Math.max(start, end - featureSettings.tailLength);
  histogram.fill(0);
  let symbols = 0;
  let tokens = 0;
  let oddTokens = 0;
  let tokenSymbols = 0;
  let inToken = false;
  for (let cursor = tailStart; cursor < end; cursor++) {
    const code = text.charCodeAt(cursor);
    histogram[code & 127] = (histogram[code & 127] as number) + 1;
    if (code === 32) {
      if (inToken && tokenSymbols >= 2) oddTokens++;
      inToken = false;
      tokenSymbols = 0;
      continue;
    }
    if (!inToken) {
      inToken = true;
      tokens++;
    }
    if (!isWordCode(code)) {
      symbols++;
      tokenSymbols++;
    }
  }
  if (inToken && tokenSymbols >= 2) oddTokens++;
  const tail = end - tailStart;
  let entropy = 0;
  if (tail > 0) {
    for (let index = 0; index < 128; index++) {
      const frequency = histogram[index] as number;
      if (frequency === 0) continue;
      const p = frequency / tail;
      entropy -= p * Math.log2(p);
    }
  }

  dense[4] = tail > 0 ? Math.min(1, (symbols / tail) * 4) : 0;
  dense[5] = tail > 16 ? Math.max(0, Math.min(1, (entropy - 3.5) / 2)) : 0;
  dense[6] = tokens > 0 ? Math.min(1, (oddTokens / tokens) * 4) : 0;
}
