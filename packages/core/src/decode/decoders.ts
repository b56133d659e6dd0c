/**
 * Decoders for the encodings attackers wrap payloads in. Each returns the decoded text, or
 * undefined when the input is not a plausible encoding of readable text.
 */

const utf8 = new TextDecoder('utf-8');

/** True when at least 90% of the characters are printable text (letters of any script count). */
export function isReadableText(text: string): boolean {
  if (text.length < 3) return false;
  let readable = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 0x20 && code < 0x7f) || code === 0x09 || code === 0x0a || code === 0x0d || code >= 0xa0) readable++;
  }
  return readable >= text.length * 0.9;
}

function bytesToText(bytes: Uint8Array): string | undefined {
  // Non-fatal decoding: invalid bytes become U+FFFD, which isReadableText counts against the
  // text (exceptions on every random token would be slow).
  const text = utf8.decode(bytes);
  return !text.includes('\ufffd') && isReadableText(text) ? text : undefined;
}

export function decodeBase64(token: string): string | undefined {
  const standard = token.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (standard.length % 4 === 1) return undefined;
  try {
    return bytesToText(Buffer.from(standard, 'base64'));
  } catch {
    return undefined;
  }
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function decodeBase32(token: string): string | undefined {
  const body = token.replace(/=+$/, '').toUpperCase();
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of body) {
    const value = base32Alphabet.indexOf(char);
    if (value < 0) return undefined;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return bytesToText(Uint8Array.from(bytes));
}

export function decodeHex(token: string): string | undefined {
  const digits = token.replace(/\\x|0x|[\s:,-]/gi, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(digits)) return undefined;
  return bytesToText(Buffer.from(digits, 'hex'));
}

export function decodeUrl(token: string): string | undefined {
  try {
    const text = decodeURIComponent(token.replace(/\+/g, ' '));
    return text !== token && isReadableText(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

const namedEntities: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  semi: ';',
  colon: ':',
  comma: ',',
  period: '.',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  equals: '=',
  lowbar: '_',
  verbar: '|',
  grave: '`',
  tilde: '~',
  lsqb: '[',
  rsqb: ']',
  lcub: '{',
  rcub: '}',
  newline: '\n',
  tab: '\t',
};

export function decodeHtmlEntities(token: string): string | undefined {
  const text = token.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]{2,8}));/gi, (entity, decimal, hex, name) => {
    if (decimal) return safeFromCodePoint(Number.parseInt(decimal, 10)) ?? entity;
    if (hex) return safeFromCodePoint(Number.parseInt(hex, 16)) ?? entity;
    return namedEntities[(name as string).toLowerCase()] ?? entity;
  });
  return text !== token && isReadableText(text) ? text : undefined;
}

function safeFromCodePoint(codePoint: number): string | undefined {
  return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : undefined;
}

export function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (char) => {
    const code = char.charCodeAt(0);
    const base = code >= 97 ? 97 : 65;
    return String.fromCharCode(((code - base + 13) % 26) + base);
  });
}

/** Adobe ASCII85 (with or without the `<~ ~>` frame), `z` for four zero bytes. */
export function decodeAscii85(token: string): string | undefined {
  const body = token.replace(/^<~/, '').replace(/~>$/, '').replace(/\s+/g, '');
  const bytes: number[] = [];
  let group: number[] = [];
  const flush = (count: number) => {
    let value = 0;
    for (const digit of group) value = value * 85 + digit;
    for (let index = 0; index < 4 - (5 - count); index++) bytes.push((value >>> (24 - index * 8)) & 0xff);
  };
  for (const char of body) {
    if (char === 'z' && group.length === 0) {
      bytes.push(0, 0, 0, 0);
      continue;
    }
    const digit = char.charCodeAt(0) - 33;
    if (digit < 0 || digit > 84) return undefined;
    group.push(digit);
    if (group.length === 5) {
      flush(5);
      group = [];
    }
  }
  if (group.length === 1) return undefined;
  if (group.length > 0) {
    const count = group.length;
    while (group.length < 5) group.push(84);
    flush(count);
  }
  return bytesToText(Uint8Array.from(bytes));
}

const morseTable: Record<string, string> = {
  '.-': 'a',
  '-...': 'b',
  '-.-.': 'c',
  '-..': 'd',
  '.': 'e',
  '..-.': 'f',
  '--.': 'g',
  '....': 'h',
  '..': 'i',
  '.---': 'j',
  '-.-': 'k',
  '.-..': 'l',
  '--': 'm',
  '-.': 'n',
  '---': 'o',
  '.--.': 'p',
  '--.-': 'q',
  '.-.': 'r',
  '...': 's',
  '-': 't',
  '..-': 'u',
  '...-': 'v',
  '.--': 'w',
  '-..-': 'x',
  '-.--': 'y',
  '--..': 'z',
  '-----': '0',
  '.----': '1',
  '..---': '2',
  '...--': '3',
  '....-': '4',
  '.....': '5',
  '-....': '6',
  '--...': '7',
  '---..': '8',
  '----.': '9',
  '.-.-.-': '.',
  '--..--': ',',
  '..--..': '?',
  '.----.': "'",
  '-.-.--': '!',
  '-..-.': '/',
  '-.--.': '(',
  '-.--.-': ')',
  '.-...': '&',
  '---...': ':',
  '-.-.-.': ';',
  '-...-': '=',
  '.-.-.': '+',
  '-....-': '-',
  '..--.-': '_',
  '.-..-.': '"',
  '...-..-': '$',
  '.--.-.': '@',
};

export function decodeMorse(token: string): string | undefined {
  let text = '';
  for (const word of token.trim().split(/\s*\/\s*|\s{3,}/)) {
    if (text) text += ' ';
    for (const letter of word.trim().split(/\s+/)) {
      if (!letter) continue;
      const char = morseTable[letter];
      if (char === undefined) return undefined;
      text += char;
    }
  }
  return text.replace(/\s/g, '').length >= 2 ? text : undefined;
}
