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

const spacedHexPattern = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[ :][0-9A-Fa-f]{2}){7,}(?![0-9A-Fa-f])/g;
const escapedHexPattern = /(?:\\x[0-9A-Fa-f]{2}){4,}/g;
const urlPattern = /(?<!\S)[^\s%]{0,200}(?:%[0-9A-Fa-f]{2}[^\s%]{0,200}){2,}/g;
const entityPattern = /(?:&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});[^&\s]{0,3}){3,}/g;
const morsePattern = /(?<![\w.-])[.-]{1,7}(?:(?: | \/ )[.-]{1,7}){2,}(?![\w.-])/g;
const ascii85Pattern = /<~[!-u\s]{4,}~>|(?<!\S)[!-u]{10,}(?!\S)/g;
const ascii85Punctuation = /[!"#$%&'()*+,./:;<=>?@[\\\]^`-]/g;
const rot13Markers = [' gur ', ' naq ', ' lbh ', ' vf ', 'vtaber', 'Vtaber', 'cerivbhf', 'vafgehpgvbaf'];
const rot13Line = /[^\n]{8,2000}/g;

/** The engine's own segment patterns, for the ReDoS gate. */
export const segmentPatterns: readonly RegExp[] = [
  spacedHexPattern,
  escapedHexPattern,
  urlPattern,
  entityPattern,
  morsePattern,
  ascii85Pattern,
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
  if (text.includes(' ') || text.includes(':')) {
    each(spacedHexPattern, (token, start) => add('hex', start, start + token.length, decodeHex(token)));
  }
  if (text.includes('\\x')) {
    each(escapedHexPattern, (token, start) => add('hex', start, start + token.length, decodeHex(token)));
  }
  if (text.includes('%')) {
    each(urlPattern, (token, start) => add('url', start, start + token.length, decodeUrl(token)));
  }
  if (text.includes('&')) {
    each(entityPattern, (token, start) => add('html-entities', start, start + token.length, decodeHtmlEntities(token)));
  }
  if (text.includes('.-') || text.includes('-.')) {
    each(morsePattern, (token, start) => add('morse', start, start + token.length, decodeMorse(token)));
  }
  each(ascii85Pattern, (token, start) => {
    ascii85Punctuation.lastIndex = 0;
    const punctuation = token.match(ascii85Punctuation)?.length ?? 0;
    if (punctuation < 3 || token.includes('://')) return true;
    return add('ascii85', start, start + token.length, decodeAscii85(token));
  });
  if (options.rot13 === false) return segments;
  if (text.length <= options.rot13WholeTextLength) {
    add('rot13', 0, text.length, rot13(text));
  } else if (rot13Markers.some((marker) => text.includes(marker))) {
    each(rot13Line, (line, start) => {
      const decoded = rot13(line);
      const markers = rot13Markers.filter((marker) => line.includes(marker)).length;
      return markers >= 2 ? add('rot13', start, start + line.length, decoded) : true;
    });
  }
  return segments;
}
