/**
 * A request that does not belong to the document it sits in (task drift): the shape of an
 * injected task in an email, a web page or a tool result. An invoice does not ask its reader
 * "what are the main causes of the first world war?", and the hijacking line shares none of the
 * invoice's vocabulary.
 *
 * A line is a foreign request when all of these hold:
 * - the text is a document: at least `minimumLines` non-empty lines and `minimumRest` characters
 *   besides the line;
 * - the line is shaped like a sentence addressed to the reader: 3 to 20 words, opening with a
 *   request verb or a question word, or ending in a question mark; not a table row, a list item or
 *   a `label:` line;
 * - it does not point at the text around it ("summarise the following", "this email", "the table
 *   below"): that is how a user asks about a pasted document;
 * - it has at least two content words (four letters or more, not function words) and none of
 *   their stems (first five letters) occurs anywhere else in the text;
 * - it is the only such line: several unrelated questions make a questionnaire or a user's list
 *   of questions, not one task slipped into a document.
 *
 * Lines are split at line breaks and at escaped line breaks (`\n` inside a JSON or YAML string,
 * as tool results often carry documents). Linear in the text.
 */

import { foldLikeWordsView } from '../../normalize/words-view.js';

export interface ForeignRequestMatch {
  start: number;
  end: number;
}

const minimumLines = 3;
const minimumRest = 160;
const minimumWords = 3;
const maximumWords = 20;
const stemLength = 5;

const requestOpeners = new Set([
  'describe',
  'explain',
  'summarize',
  'summarise',
  'analyze',
  'analyse',
  'compare',
  'discuss',
  'define',
  'outline',
  'calculate',
  'compute',
  'classify',
  'identify',
  'suggest',
  'recommend',
  'create',
  'compose',
  'draft',
  'write',
  'generate',
  'find',
  'rewrite',
  'convert',
  'translate',
  'list',
  'name',
  'break',
  'give',
  'tell',
  'provide',
  'show',
  'send',
  'forward',
  'ignore',
  'what',
  'how',
  'why',
  'who',
  'which',
  'where',
  'when',
]);

// Words that point at the surrounding text: a request that uses one is about the document.
const pointers = new Set([
  'following',
  'below',
  'above',
  'this',
  'these',
  'those',
  'text',
  'document',
  'passage',
  'paragraph',
  'article',
  'email',
  'message',
  'sentence',
  'sentences',
  'input',
  'given',
  'provided',
  'attached',
  'context',
  'data',
  'table',
  'list',
  'code',
  'snippet',
  'question',
  'questions',
]);

// Function words of four letters or more: not content.
const functionWords = new Set([
  'that',
  'with',
  'have',
  'from',
  'they',
  'will',
  'would',
  'could',
  'should',
  'there',
  'their',
  'about',
  'which',
  'when',
  'what',
  'where',
  'your',
  'yours',
  'been',
  'were',
  'into',
  'than',
  'then',
  'them',
  'some',
  'more',
  'most',
  'other',
  'such',
  'only',
  'also',
  'just',
  'very',
  'like',
  'please',
  'here',
  'does',
  'each',
  'because',
  'while',
  'after',
  'before',
  'being',
  'over',
  'under',
  'again',
  'once',
  'both',
  'same',
  'dear',
  'hello',
  'thanks',
  'thank',
  'regards',
]);

const wordPattern = /[a-z0-9']+/g;
// Three spaced single letters, or digits between letters ("s p a c e d", "h0w", "3xpl41n").
const obfuscated = /(?:^|\s)[a-z](?: [a-z]){2}(?:\s|$)|[a-z][0-9]+[a-z]/;
const lineBreak = /\r?\n|(?:\\r)?\\n/g;
// A table row, a list item ("- ", "* ", "• ", "7. ", "b) "), or a "label:" line (a header field).
const notASentence = /^(?:\||[-*•]\s|[0-9a-z]{1,3}[.)]\s|[^\s:]{1,24}(?: [^\s:]{1,24}){0,2}:)/i;

/** A non-empty line, trimmed: `[start, end)` of the text view. */
interface Line {
  start: number;
  end: number;
}

// Longest line read as a request: 20 words, spaced out letter by letter at worst.
const maximumLineLength = 400;

/** Finds the one foreign request of a text view, if there is exactly one. */
export function detectForeignRequest(text: string): ForeignRequestMatch[] {
  if (text.length < minimumRest) return [];
  const lines = splitLines(text);
  if (lines.length < minimumLines) return [];
  // Request-shaped lines first (cheap, and most documents have none); the vocabulary of the whole
  // text is read only when one exists.
  const requests: { index: number; stems: Set<string> }[] = [];
  lines.forEach((line, index) => {
    const words = requestWords(text, line);
    if (!words || text.length - (line.end - line.start) < minimumRest) return;
    const stems = stemsOf(words);
    if (stems.size >= 2) requests.push({ index, stems });
  });
  if (requests.length === 0) return [];
  // How many lines each content stem occurs in (request lines with their folded words).
  const stemLines = new Map<string, number>();
  const count = (stems: Set<string>) => {
    for (const stem of stems) stemLines.set(stem, (stemLines.get(stem) ?? 0) + 1);
  };
  let next = 0;
  lines.forEach((line, index) => {
    if (requests[next]?.index === index) count((requests[next++] as (typeof requests)[number]).stems);
    else count(stemsOf(text.slice(line.start, line.end).toLowerCase().match(wordPattern) ?? []));
  });
  let found: ForeignRequestMatch | undefined;
  for (const { index, stems } of requests) {
    let shared = false;
    for (const stem of stems) if ((stemLines.get(stem) as number) > 1) shared = true;
    if (shared) continue;
    if (found) return [];
    const line = lines[index] as Line;
    found = { start: line.start, end: line.end };
  }
  return found ? [found] : [];
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  const add = (end: number) => {
    let from = start;
    let to = end;
    while (from < to && isSpace(text.charCodeAt(from))) from++;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
    if (to > from) lines.push({ start: from, end: to });
  };
  for (const match of text.matchAll(lineBreak)) {
    add(match.index);
    start = match.index + match[0].length;
  }
  add(text.length);
  return lines;
}

/** The words of a line shaped like a request to the reader (lower case, folded if obfuscated), or undefined. */
function requestWords(text: string, line: Line): string[] | undefined {
  if (line.end - line.start > maximumLineLength) return undefined;
  const body = text.slice(line.start, line.end);
  if (notASentence.test(body)) return undefined;
  const lower = body.toLowerCase();
  // Spaced-out letters and leetspeak read as the words view reads them.
  const words = (obfuscated.test(lower) ? foldLikeWordsView(lower) : lower).match(wordPattern);
  if (!words || words.length < minimumWords || words.length > maximumWords) return undefined;
  if (!requestOpeners.has(words[0] as string) && !body.endsWith('?')) return undefined;
  return words.some((word) => pointers.has(word)) ? undefined : words;
}

function stemsOf(words: readonly string[]): Set<string> {
  const stems = new Set<string>();
  for (const word of words) if (isContent(word)) stems.add(word.slice(0, stemLength));
  return stems;
}

function isContent(word: string): boolean {
  return word.length >= 4 && !functionWords.has(word) && !pointers.has(word) && !/^[0-9']+$/.test(word);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}
