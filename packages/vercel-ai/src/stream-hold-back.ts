import type { Detection } from '@palisade/core';
import { PalisadeError } from '@palisade/core';

export interface StreamHoldBackOptions {
  /**
   * Characters always held back behind the end of the stream: the longest match that can span
   * whitespace (a card number in groups, a street address, "password: …"). Default 128, which is
   * also the widest keyword reach of the shipped PII rules.
   */
  holdBackChars?: number;
  /**
   * The most ever held back. An unbroken run of non-space characters (a token, a key, a JWT) is
   * held whole until it ends or reaches this size. Default 2048.
   */
  maxHoldBackChars?: number;
  /**
   * Text is released in stretches of at least this many characters (each release is one scan);
   * the hold-back is at most this much longer. Default 32.
   */
  releaseChars?: number;
  /** Finds detections in a window of text: the guard's scanner. May throw. */
  scan: (text: string) => readonly Detection[];
}

/** A stretch of the stream that may be released now, with the detections inside it. */
export interface ReleasedStretch {
  /** The original text of the stretch. */
  text: string;
  /** Detections in the stretch, their spans relative to `text` (clipped to it). */
  detections: Detection[];
  /** The scanner threw: the caller must have the guard decide on `text` itself (it fails closed). */
  scanFailed: boolean;
}

export interface StreamHoldBack {
  /** Adds a delta; returns the stretch that can no longer become part of a match, if any. */
  push(delta: string): ReleasedStretch | undefined;
  /** The stream (or text block) ended: returns everything still held. */
  end(): ReleasedStretch | undefined;
  /** Characters held now. */
  readonly heldLength: number;
}

const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028 || code === 0x2029;

/**
 * The bounded hold-back behind streamed redaction. A delta is not shown as it arrives, because a
 * secret split over two or three deltas is only a match once its last piece is in; holding the
 * whole stream until it ends would be safe and useless. So the stream is released up to a cut,
 * and only the tail that could still become (part of) a match is held:
 *
 * - the last `holdBackChars` characters (multi-word matches), plus up to `releaseChars` waiting
 *   to make a stretch worth a scan, and
 * - the current unbroken run of non-space characters (tokens, keys, JWTs, however long), and
 * - any detection that reaches past the cut, from its start (a match that may still grow is
 *   never split),
 *
 * but never more than `maxHoldBackChars`. What is released is scanned first, in a window that
 * starts `holdBackChars` characters before it (keyword context such as "password:" that was
 * released already still counts; at least 128 characters), so each stretch reaches the guard
 * with its detections.
 *
 * INVARIANT (the bound): after any `push`, at most `maxHoldBackChars` characters are held (a
 * larger delta is cut at once). A match no longer than `holdBackChars`, or inside a run of
 * non-space characters no longer than `maxHoldBackChars`, is still wholly held when its last
 * character arrives, so the scan sees it in one piece and it is released in one stretch.
 *
 * @example
 * const holdBack = createStreamHoldBack({ scan: (text) => guard.scanner.scan(text).detections });
 * holdBack.push('my key is ghp_abc'); // undefined: everything could still be part of a match
 * holdBack.push('def… and more prose'); // { text: 'my key is ghp_abcdef… ', detections: [sec-004] } once past the window
 */
export function createStreamHoldBack(options: StreamHoldBackOptions): StreamHoldBack {
  const holdBackChars = options.holdBackChars ?? 128;
  const maxHoldBackChars = options.maxHoldBackChars ?? 2048;
  const releaseChars = options.releaseChars ?? 32;
  if (!Number.isInteger(holdBackChars) || holdBackChars < 0) invalid('holdBackChars', holdBackChars);
  if (!Number.isInteger(maxHoldBackChars) || maxHoldBackChars < Math.max(1, holdBackChars)) invalid('maxHoldBackChars', maxHoldBackChars);
  if (!Number.isInteger(releaseChars) || releaseChars < 1) invalid('releaseChars', releaseChars);
  // At least the widest keyword reach of the shipped rules, so "password:" released a while ago still counts.
  const contextChars = Math.max(holdBackChars, 128);
  let held = '';
  // The original text released last, kept only as scanning context for the next stretch.
  let context = '';

  const cut = (wanted: number, final: boolean): ReleasedStretch | undefined => {
    const window = context + held;
    let found: readonly Detection[] = [];
    let scanFailed = false;
    try {
      found = options.scan(window);
    } catch {
      scanFailed = true;
    }
    const shift = context.length;
    const local: Detection[] = [];
    for (const detection of found) {
      const start = detection.span.start - shift;
      const end = detection.span.end - shift;
      // Entirely inside the context: released (and decided) before.
      if (end <= 0 || end <= start) continue;
      local.push({ ...detection, span: { start, end } });
    }
    let at = wanted;
    if (!final) {
      // INVARIANT: a detection that reaches past the cut is held from its start, so a match that
      // may still grow is released whole; moving the cut can make another detection cross it,
      // hence the loop. The floor keeps the bound.
      const floor = held.length - maxHoldBackChars;
      for (let moved = true; moved; ) {
        moved = false;
        for (const detection of local) {
          if (detection.span.start < at && detection.span.end > at) {
            const next = Math.max(floor, detection.span.start);
            if (next < at) {
              at = next;
              moved = true;
            }
          }
        }
      }
      if (at <= 0) return undefined;
    }
    const text = held.slice(0, at);
    const detections: Detection[] = [];
    for (const detection of local) {
      if (detection.span.start >= at) continue;
      detections.push({ ...detection, span: { start: Math.max(0, detection.span.start), end: Math.min(at, detection.span.end) } });
    }
    context = (context + text).slice(-contextChars);
    held = held.slice(at);
    return { text, detections, scanFailed };
  };

  return {
    push(delta) {
      held += delta;
      let run = 0;
      while (run < held.length && !isSpace(held.charCodeAt(held.length - 1 - run))) run++;
      const forced = held.length - maxHoldBackChars;
      const wanted = Math.max(Math.min(held.length - holdBackChars, held.length - run), forced);
      // Too little to release yet: no scan at all (most deltas). The bound still forces a cut.
      if (wanted < releaseChars && forced <= 0) return undefined;
      return cut(wanted, false);
    },
    end() {
      if (held.length === 0) return undefined;
      return cut(held.length, true);
    },
    get heldLength() {
      return held.length;
    },
  };
}

function invalid(name: string, value: number): never {
  throw new PalisadeError({
    code: 'INVALID_OPTIONS',
    message: `stream.${name} must be a whole number of characters${name === 'maxHoldBackChars' ? ', at least holdBackChars and at least 1' : name === 'releaseChars' ? ', at least 1' : ', 0 or more'}; got ${String(value)}.`,
    hint: 'Defaults: holdBackChars 128, maxHoldBackChars 2048, releaseChars 32.',
  });
}
