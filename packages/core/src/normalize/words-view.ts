import { OffsetMap, replaceMapped } from './offset-map.js';
import { buildTextView, type View } from './text-view.js';

// ASCII folding table: leetspeak digits read as letters, every whitespace character a space.
const fold = new Uint16Array(128);
for (let code = 0; code < 128; code++) fold[code] = code;
for (const [from, to] of Object.entries({ '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', $: 's' })) {
  fold[from.charCodeAt(0)] = to.charCodeAt(0);
}
for (const whitespace of '\t\n\r\f\v') fold[whitespace.charCodeAt(0)] = 32;
const space = 32;
const nonAscii = /[^\x00-\x7f]/g;
const utf16 = new TextDecoder('utf-16le');

const isLetter = (code: number) => code >= 97 && code <= 122;
// Separators between spaced-out letters: space . _ * -
const isSeparator = (code: number) => code === 32 || code === 46 || code === 95 || code === 42 || code === 45;

/** The view's own patterns, for the ReDoS gate (the view itself is built by plain loops). */
export const wordsViewPatterns: readonly RegExp[] = [nonAscii];

/**
 * The `words` view, made from the text view: lower case, leetspeak digits read as letters,
 * whitespace runs as one space, and "i g n o r e"-style spaced letters (three or more single
 * letters, each followed by exactly one separator) joined. Two linear passes over char codes.
 * `lowerText` may be passed when the caller already lower-cased the text view.
 */
export function buildWordsView(textView: View, lowerText?: string): View {
  let lower = lowerText ?? textView.text.toLowerCase();
  let lowerMap = new OffsetMap(textView.map);
  if (lower.length !== textView.text.length) {
    // A few characters lower-case to two; map them one at a time.
    const mapped = replaceMapped(textView.text, nonAscii, (char) => char.toLowerCase(), textView.map);
    lower = mapped.text.toLowerCase();
    lowerMap = mapped.map;
  }
  const length = lower.length;

  // Pass 1: fold characters and collapse whitespace runs.
  const folded = new Uint16Array(length);
  // wide[i] = 1: the space at i stands for a run of two or more (a word gap, not a letter gap).
  const wide = new Uint8Array(length);
  const collapsedMap = new OffsetMap(lowerMap);
  let size = 0;
  let runStart = -1;
  for (let index = 0; index < length; index++) {
    let code = lower.charCodeAt(index);
    if (code < 128) code = fold[code] as number;
    if (code === space && size > 0 && folded[size - 1] === space) {
      if (runStart < 0) runStart = index - 1;
      wide[size - 1] = 1;
      continue;
    }
    if (runStart >= 0) {
      collapsedMap.record(runStart, index, size - 1, size);
      runStart = -1;
    }
    folded[size++] = code;
  }
  if (runStart >= 0) collapsedMap.record(runStart, length, size - 1, size);

  // Pass 2: join spaced-out letters ("i g n o r e" -> "ignore").
  const joined = new Uint16Array(size);
  const joinedMap = new OffsetMap(collapsedMap);
  let out = 0;
  for (let index = 0; index < size; ) {
    const code = folded[index] as number;
    if (isLetter(code) && (index === 0 || !isLetter(folded[index - 1] as number))) {
      // Count letters l, separator, l, separator, ... where each letter stands alone.
      let letters = 1;
      let cursor = index;
      while (
        cursor + 2 < size &&
        isSeparator(folded[cursor + 1] as number) &&
        wide[cursor + 1] === 0 &&
        isLetter(folded[cursor + 2] as number) &&
        (cursor + 3 >= size || !isLetter(folded[cursor + 3] as number))
      ) {
        letters++;
        cursor += 2;
      }
      if (letters >= 3 && (index + 1 >= size || !isLetter(folded[index + 1] as number))) {
        const start = out;
        for (let letter = index; letter <= cursor; letter += 2) joined[out++] = folded[letter] as number;
        joinedMap.record(index, cursor + 1, start, out);
        index = cursor + 1;
        continue;
      }
    }
    joined[out++] = code;
    index++;
  }
  return { text: utf16.decode(joined.subarray(0, out)), map: joinedMap };
}

/** Folds a keyword the way the text and words views fold text, so the two can be compared. */
export function foldLikeWordsView(keyword: string): string {
  return buildWordsView(buildTextView(keyword)).text;
}
