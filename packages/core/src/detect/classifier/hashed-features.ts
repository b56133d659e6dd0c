/**
 * Feature extraction for the prompt-attack classifier, shared by the runtime and the trainer
 * (`scripts/train-classifier.mjs` imports the built copy), so both see exactly the same features.
 *
 * One pass over a words view records, for every position, the hashed character 4-gram ending
 * there, and for every word its hashed word 1-2 grams and lexical flags (running counts). In a
 * document (several sentences), every word gram is also hashed a second time with a document salt,
 * and the lexical densities go to document slots, so the model can learn that "what is the capital
 * of brazil?" is an ordinary prompt on its own but a hijack when it sits inside an email (the two
 * kinds are also calibrated apart; see prompt-attack-classifier.ts). A range's features are the
 * grams that end inside it, so the runtime sums weights through prefix sums as it hashes: any
 * number of overlapping windows costs one pass.
 *
 * Per range, besides the hashed grams (each family scaled by 1/sqrt(its gram count) so long and
 * short ranges score alike), a few dense features: instruction-verb density, second-person
 * density and imperative sentence starts (each in a document slot or an alone slot), role markers
 * (`system:`, `assistant:`), the shape of the range's last 256 characters (symbol ratio, character
 * entropy, symbol-laden tokens) for optimiser-made suffixes (window heads only), non-ASCII share,
 * how much text surrounds the range, whether it ends in a question mark, and a question or an
 * order inside a document.
 */

import { Buffer } from 'node:buffer';

/** Feature settings; the model file records them and the loader checks they match. */
export const featureSettings = {
  /** log2 of the number of hash buckets. */
  hashBits: 17,
  /** Lengths of the character grams hashed at each position. */
  charGramLengths: '4',
  wordGramMax: 2,
  /** Characters of the range's end read for the suffix features. */
  tailLength: 256,
  /** A text of at least `documentLength` characters and this many sentences, or twice that length, is a document. */
  documentSentences: 3,
  documentLength: 160,
  /** The injection head scores sentences, each merged with the next until it is at least this long. */
  unitMin: 32,
  denseNames: [
    'instruction-verbs',
    'second-person',
    'imperative-starts',
    'role-markers',
    'tail-symbols',
    'tail-entropy',
    'tail-odd-tokens',
    'non-ascii',
    'surrounded',
    'question-end',
    'question-in-document',
    'imperative-in-document',
    'instruction-verbs-alone',
    'second-person-alone',
    'imperative-starts-alone',
  ],
} as const;

export const denseCount = featureSettings.denseNames.length;

/** A bucket slot that holds no gram (a word's bigram when it is the first word; document grams outside documents). */
export const noBucket = 0xffffffff;

const fnvPrime = 0x01000193;
const power1 = 0x01000193;
const power2 = Math.imul(power1, power1);
const power3 = Math.imul(power2, power1);
const salt4 = 0x3c6ef372;
const documentSalt = 0x2545f491;

/** A word gram's bucket: Fibonacci hashing of its 32-bit hash (top bits of one multiply). */
function mix(hash: number): number {
  return Math.imul(hash ^ (hash >>> 15), 0x9e3779b1) >>> (32 - featureSettings.hashBits);
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

// What each UTF-16 code unit is to the word pass, one table load instead of a chain of compares.
const wordKind = 1;
const clauseEndKind = 2;
const sentenceEndKind = 4;
const charKinds = new Uint8Array(0x10000);
for (let code = 0; code < 0x10000; code++) {
  const word = (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code > 127;
  const sentenceEnd = code === 46 || code === 33 || code === 63;
  const clauseEnd = sentenceEnd || code === 58 || code === 59 || code === 10;
  charKinds[code] = (word ? wordKind : 0) | (clauseEnd ? clauseEndKind : 0) | (sentenceEnd ? sentenceEndKind : 0);
}

/** Running counts kept per word, `countStride` numbers per row. */
const count = { verbs: 0, you: 1, roles: 2, sentences: 3, imperativeStarts: 4, nonAscii: 5, wordGrams: 6 } as const;
const countStride = 7;
const wordSlots = 4;

/**
 * What one pass over a text records. Reusable: `extractText` grows the arrays as needed and keeps
 * them, so scoring allocates nothing once warm.
 */
export interface TextFeatures {
  text: string;
  length: number;
  /**
   * The text's UTF-16 code units, then a 0 (a non-word sentinel). The passes read this array:
   * one native copy costs less than a `charCodeAt` per read, which checks the string's
   * representation every time.
   */
  codes: Uint16Array;
  /** The bytes of `codes`, for the copy. */
  codeBytes: Buffer;
  /** Bucket of the character 4-gram ending at each position; `noBucket` before the text is long enough. */
  charBuckets: Uint32Array;
  wordCount: number;
  /** Exclusive end of each word. */
  wordEnds: Int32Array;
  /** Four buckets per word: unigram, bigram with the previous word, and both again document-salted; `noBucket` where absent. */
  wordBuckets: Uint32Array;
  /** Running lexical counts: row `k` holds the totals over words `0..k-1` (see `count`). */
  wordCounts: Int32Array;
  /** Exclusive ends of the sentences (after `.`, `!` or `?` followed by a space or the end). */
  sentenceEnds: Int32Array;
  sentenceCount: number;
  /** Whether the text counts as a document (see `isDocument`). */
  document: boolean;
  /** Scratch for the tail entropy: 128 counts, then the slots counted, in the order first seen. */
  histogram: Uint16Array;
  /** Whether `charBuckets` holds this text's buckets (false when it was extracted straight into weight sums). */
  buckets: boolean;
}

export function createTextFeatures(): TextFeatures {
  return {
    text: '',
    length: 0,
    codes: new Uint16Array(0),
    codeBytes: Buffer.alloc(0),
    charBuckets: new Uint32Array(0),
    wordCount: 0,
    wordEnds: new Int32Array(0),
    wordBuckets: new Uint32Array(0),
    wordCounts: new Int32Array(countStride),
    sentenceEnds: new Int32Array(0),
    sentenceCount: 0,
    document: false,
    histogram: new Uint16Array(256),
    buckets: false,
  };
}

/** Records the features of a whole words view into `out`. Linear in the text; allocates only to grow `out`. */
export function extractText(text: string, out: TextFeatures, scoring?: WeightSums): void {
  const length = text.length;
  out.text = text;
  out.length = length;
  copyCodes(text, out);
  if (scoring) {
    // One more entry than the prefix sums need: the pass writes one past the text (see `grams`).
    if (scoring.charFirst.length < length + 2)
      throw new RangeError(`weight sums hold ${scoring.charFirst.length - 2} characters, the text ${length}`);
  } else if (out.charBuckets.length < length + 1) out.charBuckets = new Uint32Array(grow(length + 1));
  out.buckets = !scoring;
  // A word needs at least one character and a separator, a sentence two characters.
  const maxWords = (length >>> 1) + 1;
  if (out.wordEnds.length < maxWords) {
    const size = grow(maxWords);
    out.wordEnds = new Int32Array(size);
    out.wordBuckets = new Uint32Array(size * wordSlots);
    out.wordCounts = new Int32Array((size + 1) * countStride);
    out.sentenceEnds = new Int32Array(size);
  }
  out.document = isDocument(text);
  grams(out, out.document, scoring);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies the text's code units into `out.codes` (growing it), with the sentinel after them. */
function copyCodes(text: string, out: TextFeatures): void {
  const length = text.length;
  if (out.codes.length < length + 1) {
    const buffer = new ArrayBuffer(grow(length + 1) * 2);
    out.codes = new Uint16Array(buffer);
    out.codeBytes = Buffer.from(buffer);
  }
  // UTF-16LE is the array's own layout on little-endian machines (x64, arm64; not s390x).
  if (littleEndian) out.codeBytes.write(text, 0, length * 2, 'utf16le');
  else for (let index = 0; index < length; index++) out.codes[index] = text.charCodeAt(index);
  out.codes[length] = 0;
}

/**
 * Where the runtime wants weight sums instead of buckets: the two heads' weights as pairs
 * (`pairs[2 * bucket]` the first head's, `pairs[2 * bucket + 1]` the second's, so one shift finds
 * both in one cache line) and their prefix sums, `char*[p]` over the character grams ending before
 * `p`, `word*[k]` over the grams of the first `k` words. The character sums hold at least
 * length + 2 entries (the pass writes one past the text), the word sums length + 1.
 */
export interface WeightSums {
  pairs: Int8Array;
  charFirst: Int32Array;
  charSecond: Int32Array;
  wordFirst: Int32Array;
  wordSecond: Int32Array;
}

/**
 * Whether a text is a document: at least `documentLength` characters and `documentSentences`
 * sentence ends (`.`, `!` or `?` then a space), or at least twice that length. Found with native
 * searches before the passes, since the grams hashed depend on it.
 */
function isDocument(text: string): boolean {
  if (text.length < featureSettings.documentLength) return false;
  if (text.length >= featureSettings.documentLength * 2) return true;
  let found = 0;
  for (const end of ['. ', '? ', '! ']) {
    for (let index = text.indexOf(end); index >= 0; index = text.indexOf(end, index + 2)) {
      if (++found >= featureSettings.documentSentences) return true;
    }
  }
  const last = text.charCodeAt(text.length - 1);
  return found + (last === 46 || last === 33 || last === 63 ? 1 : 0) >= featureSettings.documentSentences;
}

/** Array sizes grow in powers of two, so a stream of similar inputs reallocates rarely. */
function grow(size: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(64, size)));
}

// A character gram's bucket: its polynomial hash, salted, times the golden ratio, top bits
// (Fibonacci hashing: one multiply spreads every input bit into the bucket).
const shift = 32 - featureSettings.hashBits;
const golden = 0x9e3779b1;

/**
 * The one pass over the code units: at each position the character 4-gram ending there, and
 * at each word's end its word 1-2 grams, lexical running counts, and sentence ends. With `scoring`
 * the grams' weights go straight into the two heads' prefix sums (`char*[p]` over the character
 * grams ending before `p`, `word*[k]` over the grams of the first `k` words); without, their
 * buckets go to `charBuckets` and `wordBuckets` (the trainer's path).
 */
function grams(out: TextFeatures, document: boolean, scoring: WeightSums | undefined): void {
  const { codes, length, charBuckets, wordEnds, wordBuckets, wordCounts, sentenceEnds } = out;
  const sums = scoring !== undefined;
  const pairs = scoring?.pairs ?? noWeights;
  const charFirst = scoring?.charFirst ?? noSums;
  const charSecond = scoring?.charSecond ?? noSums;
  const wordFirst = scoring?.wordFirst ?? noSums;
  const wordSecond = scoring?.wordSecond ?? noSums;
  // A 4-gram is hashed at its last character, a polynomial over the last four code units (kept in
  // c1..c3), so a position costs one read and a few multiplies.
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let charSumFirst = 0;
  let charSumSecond = 0;
  let wordSumFirst = 0;
  let wordSumSecond = 0;
  let words = 0;
  let sentenceCount = 0;
  let verbs = 0;
  let you = 0;
  let roles = 0;
  let sentences = 0;
  let imperativeStarts = 0;
  let nonAscii = 0;
  let wordGrams = 0;
  let previous = 0;
  let hash = wordSeed;
  let inWord = false;
  let clauseStart = true;
  charFirst[0] = 0;
  charSecond[0] = 0;
  wordFirst[0] = 0;
  wordSecond[0] = 0;
  // INVARIANT: position `length` reads the sentinel 0, which ends the last word and is no sentence
  // end; its character grams land one past the text (the arrays have room) and are never read.
  for (let position = 0; position <= length; position++) {
    const code = codes[position] as number;
    const g4 = (Math.imul(c3, power3) + Math.imul(c2, power2) + Math.imul(c1, power1) + code) | 0;
    const b4 = Math.imul(g4 ^ salt4, golden) >>> shift;
    if (sums) {
      if (position >= 3) {
        charSumFirst += pairs[b4 << 1] as number;
        charSumSecond += pairs[(b4 << 1) + 1] as number;
      }
      charFirst[position + 1] = charSumFirst;
      charSecond[position + 1] = charSumSecond;
    } else {
      charBuckets[position] = position >= 3 ? b4 : noBucket;
    }
    c3 = c2;
    c2 = c1;
    c1 = code;
    const kind = charKinds[code] as number;
    if ((kind & wordKind) !== 0) {
      // FNV-1a over the word.
      nonAscii += code > 127 ? 1 : 0;
      hash = Math.imul(hash ^ code, fnvPrime);
      inWord = true;
      continue;
    }
    if (inWord) {
      // The word that ended before this position.
      const word = hash >>> 0;
      hash = wordSeed;
      inWord = false;
      const unigram = mix(word);
      const pair = (previous ^ Math.imul(word, 0x27d4eb2d)) >>> 0;
      const bigram = mix(pair);
      const hasPair = previous !== 0;
      if (sums) {
        let base = unigram << 1;
        wordSumFirst += pairs[base] as number;
        wordSumSecond += pairs[base + 1] as number;
        if (hasPair) {
          base = bigram << 1;
          wordSumFirst += pairs[base] as number;
          wordSumSecond += pairs[base + 1] as number;
        }
        if (document) {
          base = mix(word ^ documentSalt) << 1;
          wordSumFirst += pairs[base] as number;
          wordSumSecond += pairs[base + 1] as number;
          if (hasPair) {
            base = mix(pair ^ documentSalt) << 1;
            wordSumFirst += pairs[base] as number;
            wordSumSecond += pairs[base + 1] as number;
          }
        }
        wordFirst[words + 1] = wordSumFirst;
        wordSecond[words + 1] = wordSumSecond;
      } else {
        const slot = words * wordSlots;
        wordBuckets[slot] = unigram;
        wordBuckets[slot + 1] = noBucket;
        wordBuckets[slot + 2] = noBucket;
        wordBuckets[slot + 3] = noBucket;
        if (hasPair) wordBuckets[slot + 1] = bigram;
        if (document) {
          wordBuckets[slot + 2] = mix(word ^ documentSalt);
          if (hasPair) wordBuckets[slot + 3] = mix(pair ^ documentSalt);
        }
      }
      wordGrams += (hasPair ? 2 : 1) * (document ? 2 : 1);
      previous = word;
      const flags = flagsOf(word);
      const isVerb = flags & verbFlag;
      verbs += isVerb;
      you += (flags & youFlag) >>> 1;
      if (clauseStart) {
        sentences++;
        imperativeStarts += isVerb;
        clauseStart = false;
      }
      // Branch-free: a path the warm-up never took has no type feedback, and its first run would
      // throw the pass out of optimised code (role markers are rare).
      roles += ((flags & roleFlag) >>> 2) & (code === 58 ? 1 : 0);
      wordEnds[words] = position;
      words++;
      const row = words * countStride;
      wordCounts[row + count.verbs] = verbs;
      wordCounts[row + count.you] = you;
      wordCounts[row + count.roles] = roles;
      wordCounts[row + count.sentences] = sentences;
      wordCounts[row + count.imperativeStarts] = imperativeStarts;
      wordCounts[row + count.nonAscii] = nonAscii;
      wordCounts[row + count.wordGrams] = wordGrams;
    }
    if ((kind & clauseEndKind) !== 0) clauseStart = true;
    if ((kind & sentenceEndKind) !== 0 && (position + 1 === length || codes[position + 1] === 32)) {
      sentenceEnds[sentenceCount++] = position + 1;
    }
  }
  out.wordCount = words;
  out.sentenceCount = sentenceCount;
}

const noWeights = new Int8Array(0);
const noSums = new Int32Array(1);

/** Character grams ending before position `x` (a 4-gram ends at each position from 3 on). */
function charGramsBefore(x: number): number {
  return x <= 3 ? 0 : x - 3;
}

/** Index of the first word whose end is greater than `position`. */
export function wordIndexAfter(features: TextFeatures, position: number): number {
  const { wordEnds } = features;
  let low = 0;
  let high = features.wordCount;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((wordEnds[middle] as number) > position) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * The gram counts of `[start, end)`: character grams ending inside it, and the grams of the words
 * that end inside it (`firstWord` to `endWord`, from `wordIndexAfter`).
 */
export function gramCounts(features: TextFeatures, start: number, end: number, firstWord: number, endWord: number): [number, number] {
  const { wordCounts } = features;
  return [
    charGramsBefore(end) - charGramsBefore(start),
    (wordCounts[endWord * countStride + count.wordGrams] as number) - (wordCounts[firstWord * countStride + count.wordGrams] as number),
  ];
}

/** Calls `visit` with every bucket of `[start, end)` (the trainer's view of a range; the runtime sums weights instead). */
export function forEachBucket(
  features: TextFeatures,
  start: number,
  end: number,
  visit: (bucket: number, character: boolean) => void,
): void {
  if (!features.buckets) throw new Error('forEachBucket needs a text extracted without weight sums');
  for (let index = start; index < end; index++) {
    const bucket = features.charBuckets[index] as number;
    if (bucket !== noBucket) visit(bucket, true);
  }
  const firstWord = wordIndexAfter(features, start);
  const endWord = wordIndexAfter(features, end);
  for (let index = firstWord * wordSlots; index < endWord * wordSlots; index++) {
    const bucket = features.wordBuckets[index] as number;
    if (bucket !== noBucket) visit(bucket, false);
  }
}

/**
 * The dense features of `[start, end)` into `dense` (words `firstWord` to `endWord`, from
 * `wordIndexAfter`). The tail features are read only when `tail` is set (the window heads: an
 * optimiser-made suffix ends a prompt, and reading every sentence's tail would cost a pass).
 */
export function denseFeatures(
  features: TextFeatures,
  start: number,
  end: number,
  firstWord: number,
  endWord: number,
  dense: Float64Array,
  tail: boolean,
): void {
  const { wordCounts, codes } = features;
  const from = firstWord * countStride;
  const to = endWord * countStride;
  const of = (key: number) => (wordCounts[to + key] as number) - (wordCounts[from + key] as number);
  const words = endWord - firstWord;
  const perWord = words > 0 ? 1 / words : 0;
  const sentences = of(count.sentences);
  const length = end - start;
  // The lexical densities go to one of two slots, in a document or alone, like the hashed grams:
  // "translate your response" is an order slipped into an email, or a user's own request.
  const verbs = Math.min(1, of(count.verbs) * perWord * 6);
  const you = Math.min(1, of(count.you) * perWord * 8);
  const imperative = sentences > 0 ? of(count.imperativeStarts) / sentences : 0;
  const alone = features.document ? 0 : 1;
  dense[0] = verbs * (1 - alone);
  dense[1] = you * (1 - alone);
  dense[2] = imperative * (1 - alone);
  dense[12] = verbs * alone;
  dense[13] = you * alone;
  dense[14] = imperative * alone;
  dense[3] = Math.min(1, of(count.roles) / 2);
  dense[7] = length > 0 ? Math.min(1, (of(count.nonAscii) / length) * 4) : 0;
  dense[8] = Math.min(1, (features.length - length) / 512);
  let last = end - 1;
  while (last >= start && codes[last] === 32) last--;
  dense[9] = last >= start && codes[last] === 63 ? 1 : 0;
  // A question or an order addressed to the reader, inside a document: the shape of a task hijack.
  const inDocument = features.document ? (dense[8] as number) : 0;
  dense[10] = (dense[9] as number) * inDocument;
  dense[11] = imperative * inDocument;
  if (tail) tailFeatures(codes, start, end, features.histogram, dense);
  else dense.fill(0, 4, 7);
}

/**
 * The tail: optimiser-made suffixes are dense in symbols, high in entropy, and mix letters with
 * punctuation inside one token.
 */
function tailFeatures(codes: Uint16Array, start: number, end: number, histogram: Uint16Array, dense: Float64Array): void {
  const tailStart = Math.max(start, end - featureSettings.tailLength);
  let symbols = 0;
  let tokens = 0;
  let oddTokens = 0;
  let tokenSymbols = 0;
  let inToken = 0;
  let distinct = 0;
  // Counted with additions every character runs through: an increment only odd tails reach would
  // have no type feedback and throw the function out of optimised code the first time.
  for (let cursor = tailStart; cursor < end; cursor++) {
    const code = codes[cursor] as number;
    const slot = code & 127;
    const frequency = histogram[slot] as number;
    histogram[slot] = frequency + 1;
    if (frequency === 0) histogram[128 + distinct++] = slot;
    if (code === 32) {
      oddTokens += inToken & (tokenSymbols >= 2 ? 1 : 0);
      inToken = 0;
      tokenSymbols = 0;
      continue;
    }
    tokens += 1 - inToken;
    inToken = 1;
    const symbol = ((charKinds[code] as number) & wordKind) ^ 1;
    symbols += symbol;
    tokenSymbols += symbol;
  }
  oddTokens += inToken & (tokenSymbols >= 2 ? 1 : 0);
  const tail = end - tailStart;
  // Entropy from the counts of the slots seen, in the order first seen (clearing each), so a tail
  // costs its distinct characters rather than the histogram's 128 slots.
  let entropy = 0;
  for (let index = 0; index < distinct; index++) {
    const slot = histogram[128 + index] as number;
    const p = (histogram[slot] as number) / tail;
    histogram[slot] = 0;
    entropy -= p * Math.log2(p);
  }
  dense[4] = tail > 0 ? Math.min(1, (symbols / tail) * 4) : 0;
  dense[5] = tail > 16 ? Math.max(0, Math.min(1, (entropy - 3.5) / 2)) : 0;
  dense[6] = tokens > 0 ? Math.min(1, (oddTokens / tokens) * 4) : 0;
}

/**
 * Calls `visit` with the windows of a head that reads fixed windows: the whole text when it fits,
 * else windows of `length` every `stride` characters, the last one ending at the text's end.
 */
export function forEachWindow(
  textLength: number,
  window: { length: number; stride: number },
  visit: (start: number, end: number) => void,
): void {
  if (textLength <= window.length) {
    visit(0, textLength);
    return;
  }
  // INVARIANT: the last window ends at `textLength`, so every character is in some window.
  for (let start = 0; ; start += window.stride) {
    const end = Math.min(textLength, start + window.length);
    visit(end - window.length, end);
    if (end === textLength) break;
  }
}

/**
 * Calls `visit` with the units of a head that reads sentences: each sentence merged with the next
 * until it holds `unitMin` characters (a short tail joins the last unit); a unit longer than
 * `window.length` is read in windows as `forEachWindow` does.
 */
export function forEachUnit(
  features: TextFeatures,
  window: { length: number; stride: number },
  visit: (start: number, end: number) => void,
): void {
  const { sentenceEnds, sentenceCount, length } = features;
  const unitMin = featureSettings.unitMin;
  const emit = (start: number, end: number) => {
    if (end - start <= window.length) visit(start, end);
    else forEachWindow(end - start, window, (from, to) => visit(start + from, start + to));
  };
  let start = 0;
  let pending = -1;
  for (let index = 0; index < sentenceCount; index++) {
    const end = sentenceEnds[index] as number;
    if (end - start < unitMin) continue;
    if (pending >= 0) emit(pending, start);
    pending = start;
    start = end;
  }
  if (length - start >= unitMin || pending < 0) {
    if (pending >= 0) emit(pending, start);
    emit(start, length);
  } else emit(pending, length);
}
