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
const wide = 1;
const digit = 2;
const nonAscii = /[^\x00-\x7f]/g;
const utf16 = new TextDecoder('utf-16le');

// Word characters after folding: ASCII letters and digits, and non-ASCII letters and digits
// (classified lazily, once per code unit: 0 = unknown, 1 = word, 2 = not a word character).
const asciiWord = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  asciiWord[code] = (code >= 97 && code <= 122) || (code >= 48 && code <= 57) ? 1 : 0;
}
const nonAsciiWord = new Uint8Array(0x10000);
const letterOrDigit = /[\p{L}\p{N}]/u;
const isWord = (code: number): boolean => {
  if (code < 128) return asciiWord[code] === 1;
  let kind = nonAsciiWord[code] as number;
  if (kind === 0) {
    kind = letterOrDigit.test(String.fromCharCode(code)) ? 1 : 2;
    nonAsciiWord[code] = kind;
  }
  return kind === 1;
};
// Punctuation that ends or splits words in a sentence: , . : ; ? ! '
const isSentencePunctuation = (code: number) =>
  code === 44 || code === 46 || code === 58 || code === 59 || code === 63 || code === 33 || code === 39;
// Separators between spaced-out letters: space . _ * -
const isSeparator = (code: number) => code === 32 || code === 46 || code === 95 || code === 42 || code === 45;

/** The view's own patterns, for the ReDoS gate (the view itself is built by plain loops). */
export const wordsViewPatterns: readonly RegExp[] = [nonAscii, letterOrDigit];

/**
 * The `words` view, made from the text view: lower case, leetspeak digits read as letters,
 * whitespace runs as one space, and "i g n o r e"-style spaced-out runs (three or more single
 * letters or digits in a row, each followed by exactly one separator, with any lone punctuation
 * among them) joined. Two linear passes over char codes.
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
  // marks[i]: `wide` when the space at i stands for a run of two or more (a word gap, not a letter
  // gap); `digit` when the character at i was written as a digit.
  const marks = new Uint8Array(length);
  const collapsedMap = new OffsetMap(lowerMap);
  let size = 0;
  let runStart = -1;
  for (let index = 0; index < length; index++) {
    const written = lower.charCodeAt(index);
    const code = written < 128 ? (fold[written] as number) : written;
    if (code === space && size > 0 && folded[size - 1] === space) {
      if (runStart < 0) runStart = index - 1;
      marks[size - 1] = wide;
      continue;
    }
    if (runStart >= 0) {
      collapsedMap.record(runStart, index, size - 1, size);
      runStart = -1;
    }
    if (written >= 48 && written <= 57) marks[size] = digit;
    folded[size++] = code;
  }
  if (runStart >= 0) collapsedMap.record(runStart, length, size - 1, size);

  // Pass 2: join spaced-out runs ("i g n o r e" -> "ignore"). A run is single characters, each
  // followed by the run's one separator, never a word gap. Its members are word characters, folded
  // as in any word (so "4 6 0 5" reads as "4605" does), and punctuation that stands alone between
  // space gaps, which belongs to the word as it would unspaced ("b r a z i l ?" -> "brazil?",
  // "$ 5 0 0 . 0 0" -> "$500.00" folded). A run is joined when it holds three word characters in
  // a row, or three word characters broken only by sentence punctuation ("1 4 : 0 3"), so
  // ". . .", "x = y + z" and "a b" stay as they are. A run joined by a separator other than a
  // space must also hold a letter as written, so "3.9.0" and "127.0.0.1" stay as they are.
  const joined = new Uint16Array(size);
  const joinedMap = new OffsetMap(collapsedMap);
  let out = 0;
  let previousWord = false; // whether folded[index - 1] is a word character
  for (let index = 0; index < size; ) {
    const code = folded[index] as number;
    const word = isWord(code);
    const startsRun = word
      ? !previousWord && (index + 1 >= size || !isWord(folded[index + 1] as number))
      : code !== space && (index === 0 || folded[index - 1] === space) && (index + 1 >= size || folded[index + 1] === space);
    if (!startsRun) {
      joined[out++] = code;
      index++;
      previousWord = word;
      continue;
    }
    // Walk member, separator, member, ...; `streak` counts word characters in a row.
    let cursor = index;
    let separator = -1;
    let words = word ? 1 : 0;
    let letters = word && marks[index] !== digit ? 1 : 0;
    let streak = words;
    let longest = streak;
    let onlySentencePunctuation = word || isSentencePunctuation(code);
    while (cursor + 2 < size) {
      const gap = folded[cursor + 1] as number;
      if (marks[cursor + 1] === wide || !isSeparator(gap) || (separator >= 0 && gap !== separator)) break;
      const next = folded[cursor + 2] as number;
      const after = cursor + 3 < size ? (folded[cursor + 3] as number) : space;
      if (isWord(next)) {
        if (isWord(after)) break;
        words++;
        if (marks[cursor + 2] !== digit) letters++;
        if (++streak > longest) longest = streak;
      } else {
        // Punctuation joins only between space gaps, and only when it stands alone.
        if (next === space || gap !== space || after !== space) break;
        streak = 0;
        if (!isSentencePunctuation(next)) onlySentencePunctuation = false;
      }
      separator = gap;
      cursor += 2;
    }
    if ((longest >= 3 || (words >= 3 && onlySentencePunctuation)) && (separator === space || letters > 0)) {
      // Map word stretches and punctuation stretches apart (a gap between the two goes with the
      // punctuation), so a match on "brazil" maps back to "B r a z i l", not to "B r a z i l ?".
      let segmentIn = index;
      let segmentOut = out;
      let segmentWord = word;
      for (let member = index; member <= cursor; member += 2) {
        const memberCode = folded[member] as number;
        const memberWord = isWord(memberCode);
        if (memberWord !== segmentWord) {
          const boundary = memberWord ? member : member - 1;
          if (boundary - segmentIn !== out - segmentOut) joinedMap.record(segmentIn, boundary, segmentOut, out);
          segmentIn = boundary;
          segmentOut = out;
          segmentWord = memberWord;
        }
        joined[out++] = memberCode;
      }
      if (cursor + 1 - segmentIn !== out - segmentOut) joinedMap.record(segmentIn, cursor + 1, segmentOut, out);
      index = cursor + 1;
    } else {
      // Runs are maximal, so none starts inside this one; but its last member may start a run
      // with another separator, so the pass resumes there (each character is walked at most twice).
      do joined[out++] = folded[index++] as number;
      while (index < cursor);
    }
    previousWord = isWord(folded[index - 1] as number);
  }
  return { text: utf16.decode(joined.subarray(0, out)), map: joinedMap };
}

/** Folds a keyword the way the text and words views fold text, so the two can be compared. */
export function foldLikeWordsView(keyword: string): string {
  return buildWordsView(buildTextView(keyword)).text;
}
