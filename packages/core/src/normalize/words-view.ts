import { OffsetMap, replaceMapped } from './offset-map.js';
import { buildTextView, type View } from './text-view.js';

const leet: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', $: 's' };
const oneToOne = /[0134578$\t\n\r\f\v]/g;
const spaceRuns = / {2,}/g;
// A run of three or more single letters, each followed by exactly one separator: "i g n o r e".
const spacedLetters = /(?<![a-z])[a-z](?:[ ._*-][a-z](?![a-z])){2,}/g;
const separators = /[ ._*-]/g;
const nonAscii = /[^\x00-\x7f]/g;

/** The view's own patterns, for the ReDoS gate. */
export const wordsViewPatterns: readonly RegExp[] = [oneToOne, spaceRuns, spacedLetters, separators];

/**
 * The `words` view, made from the text view: lower case, leetspeak digits read as letters,
 * whitespace runs as one space, and "i g n o r e"-style spaced letters joined.
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
  const folded = lower.replace(oneToOne, (char) => leet[char] ?? ' ');
  const joined = replaceMapped(folded, spacedLetters, (match) => match.replace(separators, ''), lowerMap);
  const collapsed = replaceMapped(joined.text, spaceRuns, () => ' ', joined.map);
  return { text: collapsed.text, map: collapsed.map };
}

/** Folds a keyword the way the text and words views fold text, so the two can be compared. */
export function foldLikeWordsView(keyword: string): string {
  return buildWordsView(buildTextView(keyword)).text;
}
