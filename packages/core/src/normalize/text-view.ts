import { confusableToLatin } from './confusables.js';
import { type InvisibleKind, invisibleKind } from './invisible.js';
import { OffsetMap, replaceMapped } from './offset-map.js';

/** A run of removed characters of one kind, with positions in the source. */
export interface InvisibleRun {
  kind: InvisibleKind;
  start: number;
  end: number;
  count: number;
  /** Characters of the run that are ordinary in text: U+FEFF, and U+200D between two emoji. */
  benign: number;
  /** For tag and variation-selector runs: the text they smuggle (tags spell ASCII; selectors spell bytes). */
  hidden?: string;
}

/** A string to match on, with its way back to the original input. */
export interface View {
  text: string;
  map: OffsetMap;
}

export interface TextView extends View {
  invisible: InvisibleRun[];
}

const nonAscii = /[^\x00-\x7f]/gu;
const combiningMarks = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
const foldCache = new Map<string, string>();

function foldCharacter(char: string): string {
  let folded = foldCache.get(char);
  if (folded !== undefined) return folded;
  const decomposed = char.normalize('NFKD').replace(combiningMarks, '');
  folded = '';
  for (const part of decomposed) folded += confusableToLatin(part) ?? part;
  if (foldCache.size < 50_000) foldCache.set(char, folded);
  return folded;
}

/**
 * The `text` view: compatibility-folded (NFKD, then combining marks dropped: NFKC's folding of
 * fullwidth, mathematical and ligature forms plus diacritic stripping), confusables folded to
 * Latin, and zero-width, bidi, variation-selector and tag characters removed and reported.
 * ASCII input is returned as is, without copying.
 */
export function buildTextView(input: string): TextView {
  const invisible: InvisibleRun[] = [];
  // Fast path: nothing outside ASCII means nothing to fold or remove.
  nonAscii.lastIndex = 0;
  if (!nonAscii.test(input)) return { text: input, map: new OffsetMap(null), invisible };

  let run: InvisibleRun | undefined;
  let runBytes: number[] = [];
  const closeRun = () => {
    if (!run) return;
    if (run.kind === 'variation-selector') run.hidden = decodeUtf8(runBytes);
    invisible.push(run);
    run = undefined;
    runBytes = [];
  };
  const { text, map } = replaceMapped(
    input,
    nonAscii,
    (char, offset) => {
      const codePoint = char.codePointAt(0) as number;
      const kind = invisibleKind(codePoint);
      if (kind === undefined) return foldCharacter(char);
      // Tags spell printable ASCII only, so a line break in smuggled text stays visible: a tag run
      // resumed after a few whitespace characters is the same payload, with its line breaks.
      const gap = run?.kind === 'tag' && kind === 'tag' && offset > run.end && offset - run.end <= 4 ? input.slice(run.end, offset) : '';
      if (gap !== '' && gap.trim() === '' && run) run.hidden += gap;
      else if (!run || run.kind !== kind || run.end !== offset) {
        closeRun();
        run = { kind, start: offset, end: offset, count: 0, benign: 0 };
        if (kind === 'tag') run.hidden = '';
      }
      run.end = offset + char.length;
      run.count += 1;
      if (
        codePoint === 0xfeff ||
        (codePoint === 0x200d && isEmoji(input.codePointAt(offset - 2) ?? 0) && isEmoji(input.codePointAt(offset + 1) ?? 0))
      ) {
        run.benign += 1;
      }
      if (kind === 'tag' && codePoint >= 0xe0020 && codePoint <= 0xe007e) {
        run.hidden += String.fromCharCode(codePoint - 0xe0000);
      } else if (kind === 'variation-selector') {
        runBytes.push(codePoint <= 0xfe0f ? codePoint - 0xfe00 : codePoint - 0xe0100 + 16);
      }
      return '';
    },
    null,
  );
  closeRun();
  return { text, map, invisible };
}

const pictographic = /\p{Extended_Pictographic}|\u2640|\u2642|\u2695|\u2696|\u2708|\u2764|\ufe0f/u;

/** Whether a code point is (part of) an emoji; `codePointAt` on a low surrogate gives the surrogate. */
function isEmoji(codePoint: number): boolean {
  if (codePoint >= 0xdc00 && codePoint <= 0xdfff) return true;
  return codePoint > 0x7f && pictographic.test(String.fromCodePoint(codePoint));
}

function decodeUtf8(bytes: number[]): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return '';
  }
}
