/** What a validator sees: the matched value and where it sits in the view. */
export interface ValidatorInput {
  value: string;
  view: string;
  start: number;
  end: number;
}

export type Validator = (input: ValidatorInput) => boolean;

/** Luhn (mod 10) check over the digits of the value; 12 to 19 digits. */
export function luhn({ value }: ValidatorInput): boolean {
  let sum = 0;
  let digits = 0;
  for (let index = value.length - 1; index >= 0; index--) {
    const code = value.charCodeAt(index);
    if (code < 48 || code > 57) continue;
    let digit = code - 48;
    if (digits % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    digits += 1;
  }
  return digits >= 12 && digits <= 19 && sum % 10 === 0;
}

/** ISO 13616 IBAN check: country code, two check digits, mod 97 of the rearranged number is 1. */
export function iban({ value }: ValidatorInput): boolean {
  const compact = value.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const numeric = code >= 65 ? String(code - 55) : char;
    for (const digit of numeric) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / value.length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

export function minimumEntropy(bits: number): Validator {
  return ({ value }) => shannonEntropy(value) >= bits;
}

/** One of `words` (lower case) occurs within `window` characters before or after the match. */
export function keywordInContext(words: readonly string[], window: number): Validator {
  return ({ view, start, end }) => {
    const around = view.slice(Math.max(0, start - window), Math.min(view.length, end + window)).toLowerCase();
    return words.some((word) => around.includes(word));
  };
}
