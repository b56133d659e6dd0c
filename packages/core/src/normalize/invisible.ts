/** Classes of characters removed from every view, each of which is also a signal. */
export type InvisibleKind = 'tag' | 'zero-width' | 'bidi' | 'variation-selector';

/** Classifies a code point that must be removed before matching, or returns undefined. */
export function invisibleKind(codePoint: number): InvisibleKind | undefined {
  if (codePoint >= 0xe0000 && codePoint <= 0xe007f) return 'tag';
  if ((codePoint >= 0xfe00 && codePoint <= 0xfe0f) || (codePoint >= 0xe0100 && codePoint <= 0xe01ef)) {
    return 'variation-selector';
  }
  if ((codePoint >= 0x202a && codePoint <= 0x202e) || (codePoint >= 0x2066 && codePoint <= 0x2069)) return 'bidi';
  if (codePoint === 0x200e || codePoint === 0x200f || codePoint === 0x061c) return 'bidi';
  if (
    (codePoint >= 0x200b && codePoint <= 0x200d) ||
    (codePoint >= 0x2060 && codePoint <= 0x2064) ||
    codePoint === 0xfeff ||
    codePoint === 0x00ad ||
    codePoint === 0x034f ||
    codePoint === 0x180e ||
    codePoint === 0x115f ||
    codePoint === 0x1160 ||
    codePoint === 0x3164 ||
    codePoint === 0xffa0
  ) {
    return 'zero-width';
  }
  return undefined;
}
