/**
 * The classifier's weight file: the magic `PALC`, a little-endian u32 header length, a UTF-8 JSON
 * header, zero padding to a multiple of 8, then Int8 weights interleaved by head
 * (`weights[bucket * heads + head]`, so one bucket's weights for every head share a cache line).
 */

const magic = [0x50, 0x41, 0x4c, 0x43]; // "PALC"

/** One output of the model. */
export interface HeadHeader {
  name: string;
  bias: number;
  /** Int8 weight × scale = float weight. */
  scale: number;
  /** Weights of the dense features, in `denseNames` order. */
  dense: number[];
  /** Platt scaling: probability = 1 / (1 + exp(-(a × margin + b))). */
  platt: { a: number; b: number };
  /** Probability at or above which the head fires (on a document; see `alone`). */
  threshold: number;
  /** Calibration and threshold for an input that is not a document (a short prompt on its own), when fitted apart. */
  alone?: { platt: { a: number; b: number }; threshold: number };
  /**
   * What the head scores, keeping the highest margin: `window`, windows of `length` every `stride`
   * characters (the whole input when it fits); `sentence`, sentences merged up to `unitMin`
   * characters, each read in such windows when longer than `length`.
   */
  unit: 'window' | 'sentence';
  window: { length: number; stride: number };
}

export interface ModelHeader {
  format: 'palisade-prompt-attack-classifier';
  version: 3;
  hashBits: number;
  /** Lengths of the character grams, comma-separated ("3,5"). */
  charGramLengths: string;
  wordGramMax: number;
  tailLength: number;
  documentSentences: number;
  documentLength: number;
  unitMin: number;
  denseNames: string[];
  heads: HeadHeader[];
  /** Free-form provenance (data digest, seed); not read at run time. */
  provenance?: Record<string, unknown>;
}

export interface ModelFile {
  header: ModelHeader;
  weights: Int8Array;
}

/** Serialises a model. */
export function encodeModelFile({ header, weights }: ModelFile): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const offset = Math.ceil((8 + json.length) / 8) * 8;
  const bytes = new Uint8Array(offset + weights.length);
  bytes.set(magic, 0);
  new DataView(bytes.buffer).setUint32(4, json.length, true);
  bytes.set(json, 8);
  bytes.set(new Uint8Array(weights.buffer, weights.byteOffset, weights.length), offset);
  return bytes;
}

/** Parses a model file; throws on a wrong magic, a bad header or a weight count that does not match. */
export function decodeModelFile(bytes: Uint8Array): ModelFile {
  if (bytes.length < 8 || magic.some((byte, index) => bytes[index] !== byte)) {
    throw new Error('not a Palisade classifier file (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as ModelHeader;
  if (header.format !== 'palisade-prompt-attack-classifier' || header.version !== 3) {
    throw new Error(`unsupported classifier file format ${String(header.format)} v${String(header.version)}`);
  }
  const offset = Math.ceil((8 + length) / 8) * 8;
  const expected = (1 << header.hashBits) * header.heads.length;
  if (bytes.length - offset !== expected) {
    throw new Error(`classifier file holds ${bytes.length - offset} weights, expected ${expected}`);
  }
  return { header, weights: new Int8Array(bytes.buffer, bytes.byteOffset + offset, expected) };
}
