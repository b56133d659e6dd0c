import type { InvisibleRun } from '../../normalize/text-view.js';
import { promptAttackDetector } from '../classifier/prompt-attack-classifier.js';
import { detectForeignRequest } from './foreign-request.js';
import { detectPersonNames } from './person-name.js';

/** What a built-in detector sees. */
export interface BuiltinInput {
  /** The text view (see rules/README.md). */
  text: string;
  /** The words view. */
  words: string;
  /** Length of the original input (for a finding about the whole input: 0 to sourceLength, space 'source'). */
  sourceLength: number;
  /** Runs of removed invisible characters, in source positions. */
  invisible: readonly InvisibleRun[];
}

/** A built-in match; `space` says whether the span is in the text view or the source. */
export interface BuiltinMatch {
  start: number;
  end: number;
  space: 'text' | 'source';
  confidence?: number;
}

export type BuiltinDetector = (input: BuiltinInput) => BuiltinMatch[];

function runsOf(kind: InvisibleRun['kind'], minimum: number): BuiltinDetector {
  return ({ invisible }) =>
    invisible
      .filter((run) => run.kind === kind && run.count >= minimum)
      .map((run) => ({ start: run.start, end: run.end, space: 'source' as const }));
}

/**
 * Zero-width characters: three or more in the input, reported run by run. Not counted: U+FEFF
 * (a byte-order mark, and what wikis put in coordinates) and joiners inside emoji sequences
 * (family and profession emoji); both are still removed from the views.
 */
const zeroWidth: BuiltinDetector = ({ invisible }) => {
  const runs = invisible.filter((run) => run.kind === 'zero-width' && run.count > run.benign);
  const total = runs.reduce((sum, run) => sum + run.count - run.benign, 0);
  return total >= 3 ? runs.map((run) => ({ start: run.start, end: run.end, space: 'source' as const })) : [];
};

/**
 * Built-in detectors a rule can name with `detector:`. `decoded-payload` has no function: the
 * scanner raises it when a decoded or hidden segment holds a detection.
 */
export const builtinDetectors: Readonly<Record<string, BuiltinDetector | 'decoded-payload'>> = {
  'invisible-tags': runsOf('tag', 1),
  'zero-width': zeroWidth,
  'bidi-control': runsOf('bidi', 1),
  'variation-selectors': runsOf('variation-selector', 4),
  // The learned classifier (src/detect/classifier): weights load from models/ on first use.
  'injection-classifier': promptAttackDetector('injection'),
  'jailbreak-classifier': promptAttackDetector('jailbreak'),
  // A request line that shares no words with the document around it (an injected task).
  'foreign-request': ({ text }) => detectForeignRequest(text).map((match) => ({ ...match, space: 'text' as const })),
  // Off in the shipped packs (too many public figures' names in ordinary text); a custom pack
  // can enable it with `detector: person-name`.
  'person-name': ({ text }) => detectPersonNames(text).map((match) => ({ ...match, space: 'text' as const })),
  'decoded-payload': 'decoded-payload',
};
