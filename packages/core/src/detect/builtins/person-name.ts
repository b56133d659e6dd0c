import { AMBIGUOUS_FIRST_NAMES, FIRST_NAMES, SURNAMES } from './person-name-data.js';

/**
 * Person-name detector for the PII family. A regular expression cannot tell a name from any other
 * pair of capitalised words, so this looks capitalised tokens up in lists of common given names and
 * family names (person-name-data.ts):
 *
 * - a known given name followed by a capitalised word (optionally with a middle initial between):
 *   "Maria Lindqvist", "Anna K. Brenner"; stronger when the second word is a known family name;
 * - a capitalised word followed by a known family name: "Ottilie Kowalski";
 * - in lower-case text, a known given name followed by a known family name: "maria kowalski".
 *
 * One pass over the tokens with Set look-ups: linear in the input.
 */

const firstNames = new Set(FIRST_NAMES.split(' '));
const surnames = new Set(SURNAMES.split(' '));
const ambiguousFirst = new Set(AMBIGUOUS_FIRST_NAMES.split(' '));

/** Capitalised words that follow given names in ordinary text but are not family names. */
const notNames = new Set(
  (
    'the a an and or but of in on at to for from with by as is are was were be been has have had do does did not no yes ' +
    'i me my we our you your he him his she her it its they them their this that these those there here what which who whom ' +
    'when where why how all any each every some many more most other such only own same than too very can will just should ' +
    'now street st road rd avenue ave lane drive court place way square park bridge hill river lake mount mountain island ' +
    'north south east west new old great saint san santa fort port city county state university college school hospital ' +
    'church bank inc ltd llc corp co company group club team hotel airport station center centre museum library ' +
    'monday tuesday wednesday thursday friday saturday sunday january february march april may june july august ' +
    'september october november december jr sr ii iii iv mr mrs ms dr prof sir madam dear hi hello thanks thank regards ' +
    'best please ok okay'
  ).split(' '),
);

/** Family names that are everyday English words: not enough in lower-case text. */
const commonWords = new Set(
  (
    'long young white green black brown gray grey king hill wood woods rose bell ford lane west east north south cole rice ' +
    'stone fox hunt price hall ward reed cook wells mills day may page ray dean rich frank bishop banks little small ' +
    'short strong sharp law love lord mark marsh mason miller moon park parks person porter pope pound reading rock ' +
    'rush shepherd silver singer spring stand steel summer swan sweet temple turner walker wall ware waters weaver ' +
    'wise wolf lee li ma hu he so na an bo do oh ko yu su ye ren lin han song long son nam moon jang kang cho oh seo ' +
    'baker carter cooper fisher gardner hunter jordan knight martin smith taylor black brown green jones james thomas ' +
    'arnold allen bruno costa cruz das de la le da di du van von den der sen ho ly vo'
  ).split(' '),
);

const tokenPattern =
  /[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0370-\u03FF\u0400-\u04FF][A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0370-\u03FF\u0400-\u04FF'\u2019-]*/g;
const combiningMarks = /[\u0300-\u036f]/g;
const anyUpper = /[A-Z\u00C0-\u00DE\u0391-\u03A9\u0410-\u042F]/;
const anyLetter = /[a-z]/i;

interface Token {
  text: string;
  key: string;
  start: number;
  end: number;
  capitalised: boolean;
  lower: boolean;
}

function lookupKey(word: string): string {
  let key = word.toLowerCase();
  if (key.endsWith("'s") || key.endsWith('\u2019s')) key = key.slice(0, -2);
  // Accents and special letters folded so "Müller", "Łukasz", "Ørsted" find "muller", "lukasz", "orsted".
  return key
    .normalize('NFD')
    .replace(combiningMarks, '')
    .replace(/ł/g, 'l')
    .replace(/ø/g, 'o')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .replace(/đ/g, 'd')
    .replace(/[\u2019']/g, "'");
}

function isCapitalised(word: string): boolean {
  const first = word.charAt(0);
  if (first === first.toLowerCase()) return false;
  // Ordinary capitalisation: at least one lower-case letter after the first (not ALL CAPS).
  const rest = word.slice(1);
  return rest.length > 0 && rest !== rest.toUpperCase();
}

/** Only spaces (one or two) between two tokens, or ". " after a middle initial. */
function adjacent(view: string, left: Token, right: Token): boolean {
  const gap = view.slice(left.end, right.start);
  return gap === ' ' || gap === '  ';
}

function isInitial(view: string, token: Token): boolean {
  return token.text.length === 1 && token.text !== token.text.toLowerCase() && view.charAt(token.end) === '.';
}

export function detectPersonNames(view: string): Array<{ start: number; end: number; confidence: number }> {
  const found: Array<{ start: number; end: number; confidence: number }> = [];
  // Cheap pre-check: names need letters; text without any upper-case letter only goes through the
  // (strict) lower-case path.
  if (!anyLetter.test(view) && !/[\u00C0-\u04FF]/.test(view)) return found;
  const hasUpper = anyUpper.test(view);

  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  for (let match = tokenPattern.exec(view); match !== null; match = tokenPattern.exec(view)) {
    const text = match[0];
    tokens.push({
      text,
      key: lookupKey(text),
      start: match.index,
      end: match.index + text.length,
      capitalised: hasUpper && isCapitalised(text),
      lower: text === text.toLowerCase(),
    });
  }

  let lastEnd = -1;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] as Token;
    if (token.start < lastEnd) continue;

    if (token.capitalised && firstNames.has(token.key) && !notNames.has(token.key)) {
      // Given name, optional middle initial, then a capitalised word.
      let next = index + 1;
      let nextToken = tokens[next];
      if (nextToken && isInitial(view, nextToken) && view.slice(token.end, nextToken.start) === ' ') {
        const after = tokens[next + 1];
        if (after && view.slice(nextToken.end, after.start) === '. ') {
          next += 1;
          nextToken = after;
        } else {
          nextToken = undefined;
        }
      } else if (nextToken && !adjacent(view, token, nextToken)) {
        nextToken = undefined;
      }
      if (nextToken?.capitalised && nextToken.text.length >= 2 && !notNames.has(nextToken.key)) {
        const knownSurname = surnames.has(nextToken.key);
        const ambiguous = ambiguousFirst.has(token.key);
        if (knownSurname || !ambiguous) {
          found.push({ start: token.start, end: nextToken.end, confidence: knownSurname ? 0.9 : 0.8 });
          lastEnd = nextToken.end;
          index = next;
          continue;
        }
      }
    }

    if (token.capitalised && surnames.has(token.key) && !notNames.has(token.key) && !commonWords.has(token.key)) {
      // A capitalised word, then a known family name: "Ottilie Kowalski".
      const previous = tokens[index - 1];
      if (
        previous &&
        previous.start >= lastEnd &&
        previous.capitalised &&
        previous.text.length >= 2 &&
        !notNames.has(previous.key) &&
        adjacent(view, previous, token)
      ) {
        found.push({ start: previous.start, end: token.end, confidence: 0.7 });
        lastEnd = token.end;
        continue;
      }
    }

    if (token.lower && firstNames.has(token.key) && !ambiguousFirst.has(token.key) && !commonWords.has(token.key)) {
      // Lower-case text: both parts must be known names and neither an everyday word.
      const next = tokens[index + 1];
      if (next?.lower && adjacent(view, token, next) && surnames.has(next.key) && !commonWords.has(next.key) && !notNames.has(next.key)) {
        found.push({ start: token.start, end: next.end, confidence: 0.6 });
        lastEnd = next.end;
        index += 1;
      }
    }
  }
  return found;
}
