/** Evidence behind one rule's hits in one input. */
export interface Evidence {
  /** Distinct patterns of the rule that matched. */
  patterns: number;
  /** Distinct spans the rule matched. */
  occurrences: number;
  /** Other rules of the same family that matched the same input. */
  agreeing: number;
}

/**
 * Confidence = the rule's base confidence, plus 0.03 for each further pattern of the rule that
 * matched (at most 2), plus 0.02 for each further occurrence (at most 2), plus 0.05 for each other
 * rule of the same family that matched (at most 2); capped at 0.99. Several independent signals
 * agreeing is stronger evidence than one; the caps keep one noisy rule from reaching certainty.
 */
export function adjustConfidence(base: number, evidence: Evidence): number {
  const bonus =
    0.03 * Math.min(2, Math.max(0, evidence.patterns - 1)) +
    0.02 * Math.min(2, Math.max(0, evidence.occurrences - 1)) +
    0.05 * Math.min(2, evidence.agreeing);
  return Math.round(Math.min(0.99, base + bonus) * 1000) / 1000;
}
