import { SetupError } from './setup-error.js';

/** How a JSON file is laid out, so a rewrite keeps it: indentation, line ends, final newline, BOM. */
export interface JsonLayout {
  indent: string | number;
  eol: '\n' | '\r\n';
  finalNewline: boolean;
  bom: boolean;
}

export const defaultJsonLayout: JsonLayout = { indent: 2, eol: '\n', finalNewline: true, bom: false };

/**
 * Parses a JSON object file, reporting where it is broken (file:line:col) as a SetupError.
 * Empty (or whitespace-only) text is an empty object: editors create such files.
 */
export function parseJsonObject(text: string, file: string, what: string): { value: Record<string, unknown>; layout: JsonLayout } {
  const bom = text.startsWith('\uFEFF');
  const body = bom ? text.slice(1) : text;
  const layout: JsonLayout = {
    indent: detectIndent(body),
    eol: body.includes('\r\n') ? '\r\n' : '\n',
    finalNewline: body.length === 0 || /\r?\n$/.test(body),
    bom,
  };
  if (body.trim() === '') return { value: {}, layout };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const at = position ? `:${lineColumn(body, Number(position[1]))}` : '';
    throw new SetupError({
      code: 'INVALID_PROJECT_FILE',
      message: `${file}${at}: the ${what} is not valid JSON (${message}).`,
      hint: 'Fix the file (comments and trailing commas are not JSON), then run setup again; it was left untouched.',
      file,
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SetupError({
      code: 'INVALID_PROJECT_FILE',
      message: `${file}: the ${what} must be a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}.`,
      file,
    });
  }
  return { value: value as Record<string, unknown>, layout };
}

/** Serialises `value` with the layout of the file it came from. */
export function stringifyJson(value: unknown, layout: JsonLayout): string {
  let text = JSON.stringify(value, null, layout.indent);
  if (layout.finalNewline) text += '\n';
  if (layout.eol === '\r\n') text = text.replace(/\n/g, '\r\n');
  return layout.bom ? `\uFEFF${text}` : text;
}

/** The indentation of the first indented line: a tab, or that many spaces (2 when nothing is indented). */
function detectIndent(text: string): string | number {
  const match = /^([ \t]+)\S/m.exec(text);
  if (!match) return 2;
  const whitespace = match[1]!;
  return whitespace.startsWith('\t') ? '\t' : whitespace.length;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every((key) => Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}
