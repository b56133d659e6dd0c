import { decodeAscii85, decodeBase32, decodeBase64, decodeHex, decodeHtmlEntities, decodeMorse, decodeUrl, rot13 } from './decoders.js';

/** A segment of the text view that decodes to readable text. */
export interface EncodedSegment {
  encoding: string;
  /** Span in the text view. */
  start: number;
  end: number;
  decoded: string;
}

export interface FindSegmentsOptions {
  /** Stop after this many segments. */
  maxSegments: number;
  /** Stop once the decoded texts add up to this many characters. */
  maxDecodedLength: number;
  /** Texts up to this length are also read as ROT13 as a whole. */
  rot13WholeTextLength: number;
  /** Look for ROT13 at all. Default true. */
  rot13?: boolean;
}

const escapedHexPattern = /(?:\\x[0-9A-Fa-f]{2}){4,}/g;
const entityPattern = /(?:&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});[^&\s]{0,3}){3,}/g;
const morsePattern = /(?<![\w.-])[.-]{1,7}(?:(?: | \/ )[.-]{1,7}){2,}(?![\w.-])/g;
const framedAscii85Pattern = /<~[!-u\s]{4,}~>/g;
const colonHex = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7,}$/;
// ROT13 of common English words (the, and, you, is, your, to, of, for, with, that, this) and of
// injection vocabulary; plain English rarely holds several of them.
const rot13Markers = [
  ' gur ',
  ' naq ',
  ' lbh ',
  ' vf ',
  ' lbhe ',
  ' gb ',
  ' bs ',
  ' sbe ',
  ' jvgu ',
  ' gung ',
  ' guvf ',
  'vtaber',
  'Vtaber',
  'cerivbhf',
  'vafgehpgvbaf',
];
/** Distinct markers from which a long text is read as ROT13 as a whole (a ROT13 document, lines and all). */
const rot13WholeTextMarkers = 4;
const rot13Line = /[^\n]{8,2000}/g;

/** The engine's own segment patterns, for the ReDoS gate. */
export const segmentPatterns: readonly RegExp[] = [
  escapedHexPattern,
  entityPattern,
  morsePattern,
  framedAscii85Pattern,
  colonHex,
  rot13Line,
];

// Characters of the base64 (standard and URL-safe), base32 and hex alphabets, and '='.
const tokenCharacter = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=') tokenCharacter[char.charCodeAt(0)] = 1;
const minimumTokenLength = 12;

/** Calls `visit(start, end)` for each run of 12 or more token characters; stops when it returns false. */
function forEachToken(text: string, visit: (start: number, end: number) => boolean): void {
  let start = -1;
  for (let index = 0; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 0;
    if (code < 128 && tokenCharacter[code] === 1) {
      if (start < 0) start = index;
      continue;
    }
    if (start >= 0 && index - start >= minimumTokenLength && !visit(start, index)) return;
    start = -1;
  }
}

const hexDigit = new Uint8Array(128);
for (const char of '0123456789abcdefABCDEF') hexDigit[char.charCodeAt(0)] = 1;
// ASCII85 digits are '!' to 'u'; of those, the ones that are not letters or digits.
const isAscii85Punctuation = (code: number) => (code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96);
const isWhitespace = (code: number) => code === 32 || (code >= 9 && code <= 13);

interface WordStats {
  /** `%XX` escapes in the word. */
  escapes: number;
  /** Every character is an ASCII85 digit ('!' to 'u'). */
  ascii85: boolean;
  punctuation: number;
}

/**
 * One pass over whitespace-separated words: `visit` gets each word with its statistics, and
 * `visitHexRun` each run of eight or more two-digit hex words separated by single spaces
 * (`69 67 6e 6f ...`). Either stops the pass by returning false.
 */
function forEachWord(
  text: string,
  visit: (start: number, end: number, word: WordStats) => boolean,
  visitHexRun: (start: number, end: number) => boolean,
): void {
  const length = text.length;
  let runStart = -1;
  let runEnd = -1;
  let runWords = 0;
  const stats: WordStats = { escapes: 0, ascii85: true, punctuation: 0 };
  for (let index = 0; index < length; ) {
    let code = text.charCodeAt(index);
    if (isWhitespace(code)) {
      index++;
      continue;
    }
    const start = index;
    stats.escapes = 0;
    stats.ascii85 = true;
    stats.punctuation = 0;
    while (index < length && !isWhitespace(code)) {
      if (code === 37 && index + 2 < length && hexDigit[text.charCodeAt(index + 1)] === 1 && hexDigit[text.charCodeAt(index + 2)] === 1)
        stats.escapes++;
      if (code < 33 || code > 117) stats.ascii85 = false;
      else if (isAscii85Punctuation(code)) stats.punctuation++;
      code = text.charCodeAt(++index);
    }
    const isHexPair = index - start === 2 && hexDigit[text.charCodeAt(start)] === 1 && hexDigit[text.charCodeAt(start + 1)] === 1;
    if (isHexPair && runWords > 0 && start === runEnd + 1 && text.charCodeAt(runEnd) === 32) {
      runEnd = index;
      runWords++;
    } else {
      if (runWords >= 8 && !visitHexRun(runStart, runEnd)) return;
      runStart = isHexPair ? start : -1;
      runEnd = isHexPair ? index : -1;
      runWords = isHexPair ? 1 : 0;
    }
    if ((stats.escapes > 0 || (stats.ascii85 && stats.punctuation > 0)) && !visit(start, index, stats)) return;
  }
  if (runWords >= 8) visitHexRun(runStart, runEnd);
}

function isHexToken(token: string): boolean {
  return token.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(token);
}

/**
 * Base64 of text mixes upper and lower case and, past a few words, digits or `+/` (or ends in
 * `=` padding); identifiers, long words and paths rarely do all of that. Checked before paying
 * for a decode.
 */
function looksLikeBase64(token: string): boolean {
  const body = token.replace(/=+$/, '');
  if (body.includes('=')) return false;
  return /[a-z]/.test(body) && /[A-Z]/.test(body) && (/[0-9+/]/.test(body) || body.length >= 24 || body.length < token.length);
}

/**
 * Finds base64, base32, hex, URL-encoded, HTML-entity, Morse, ASCII85 and ROT13 segments in
 * `text` and decodes them. Only segments that decode to readable text are returned.
 */
export function findEncodedSegments(text: string, options: FindSegmentsOptions): EncodedSegment[] {
  const segments: EncodedSegment[] = [];
  let budget = options.maxDecodedLength;
  const add = (encoding: string, start: number, end: number, decoded: string | undefined): boolean => {
    if (decoded === undefined || decoded.trim().length < 2) return true;
    if (segments.length >= options.maxSegments || budget <= 0) return false;
    const kept = decoded.length > budget ? decoded.slice(0, budget) : decoded;
    budget -= kept.length;
    segments.push({ encoding, start, end, decoded: kept });
    return true;
  };
  const each = (pattern: RegExp, visit: (match: string, start: number) => boolean) => {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      if (!visit(match[0], match.index)) return;
    }
  };

  forEachToken(text, (start, end) => {
    const token = text.slice(start, end);
    if (isHexToken(token)) return add('hex', start, end, decodeHex(token));
    if (token.length >= 16 && /^[A-Z2-7]+=*$/.test(token)) {
      const decoded = decodeBase32(token);
      if (decoded !== undefined) return add('base32', start, end, decoded);
    }
    if (looksLikeBase64(token)) return add('base64', start, end, decodeBase64(token));
    return true;
  });
  if (text.includes('\\x')) {
    each(escapedHexPattern, (token, start) => add('hex', start, start + token.length, decodeHex(token)));
  }
  if (text.includes('&')) {
    each(entityPattern, (token, start) => add('html-entities', start, start + token.length, decodeHtmlEntities(token)));
  }
  if (text.includes('.-') || text.includes('-.')) {
    each(morsePattern, (token, start) => add('morse', start, start + token.length, decodeMorse(token)));
  }
  // Whitespace-separated words: URL-encoded words, bare ASCII85 words and runs of spaced hex
  // pairs, found in one pass (regular expressions with look-behinds cost several times more).
  forEachWord(
    text,
    (start, end, word) => {
      if (word.escapes >= 2) return add('url', start, end, decodeUrl(text.slice(start, end)));
      if (end - start >= 23 && colonHex.test(text.slice(start, end))) return add('hex', start, end, decodeHex(text.slice(start, end)));
      if (word.ascii85 && end - start >= 10 && word.punctuation >= 3) {
        const token = text.slice(start, end);
        if (!token.includes('://')) return add('ascii85', start, end, decodeAscii85(token));
      }
      return true;
    },
    (start, end) => add('hex', start, end, decodeHex(text.slice(start, end))),
  );
  if (text.includes('<~')) {
    each(framedAscii85Pattern, (token, start) => add('ascii85', start, start + token.length, decodeAscii85(token)));
  }
  if (options.rot13 === false) return segments;
  if (text.length <= options.rot13WholeTextLength) {
    add('rot13', 0, text.length, rot13(text));
  } else {
    const markers = rot13Markers.filter((marker) => text.includes(marker)).length;
    if (markers === 0) return segments;
    const lines: [number, string][] = [];
    each(rot13Line, (line, start) => {
      if (rot13Markers.filter((marker) => line.includes(marker)).length >= 2) lines.push([start, line]);
      return lines.length <= 1;
    });
    // One ROT13 line in plain text is decoded alone; several, or markers spread over the text with
    // no line standing out, make a ROT13 document, decoded whole (its lines keep their context).
    if (lines.length >= 2 || (lines.length === 0 && markers >= rot13WholeTextMarkers)) {
      if (text.length <= options.maxDecodedLength) add('rot13', 0, text.length, rot13(text));
    } else if (lines.length === 1) {
      const [start, line] = lines[0] as [number, string];
      add('rot13', start, start + line.length, rot13(line));
    }
  }
  return segments;
}
