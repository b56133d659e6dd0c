/** Detection families. */
export const families = ['PI', 'JB', 'PII', 'SEC', 'CMD', 'ENC', 'HC', 'RAG', 'TOOL'] as const;
export type Family = (typeof families)[number];

/** Severities, least to most severe. */
export const severities = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof severities)[number];

/** Rank of a severity: LOW 0 … CRITICAL 3. */
export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

/** A half-open range `[start, end)` of UTF-16 code units in the original text. */
export interface Span {
  start: number;
  end: number;
}

/** Where a finding came from when it was inside an encoded or hidden segment. */
export interface DetectionLayer {
  /** `base64`, `base32`, `hex`, `url`, `html-entities`, `rot13`, `ascii85`, `morse`, `unicode-tags`, `variation-selectors`. */
  encoding: string;
  /** 1 for a segment decoded once, 2 for a segment inside a decoded segment. */
  depth: number;
}

/**
 * One finding: a rule that matched a span of the input.
 *
 * @example
 * { ruleId: 'pi-001', family: 'PI', severity: 'CRITICAL', confidence: 0.95,
 *   tags: ['attack.injection.override'], span: { start: 0, end: 32 }, … }
 */
export interface Detection {
  ruleId: string;
  family: Family;
  /** The rule's human name. */
  name: string;
  severity: Severity;
  /** 0..1, the rule's base confidence adjusted by evidence (see README, "Confidence"). */
  confidence: number;
  tags: readonly string[];
  /** Span in the original string (for structured input, in the string at `path`). */
  span: Span;
  /** JSON path of the string the finding is in, for structured input (`$.args.to`). */
  path?: string;
  /** Set when the finding is inside a decoded or hidden segment; `span` is then the whole segment. */
  layer?: DetectionLayer;
  /** For ENC `decoded-payload` findings: the inner detections' rule ids. */
  inner?: readonly string[];
}

/** The result of one scan. */
export interface ScanResult {
  detections: Detection[];
  /** True when the input was longer than `maxInputLength` and only its first part was scanned. */
  truncated: boolean;
  /** Characters scanned (after truncation), summed over every string of a structured input. */
  scannedLength: number;
}
