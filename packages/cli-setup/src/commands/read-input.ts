import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { CliError } from '../cli-error.js';

/** Reads a whole stream as UTF-8 text. */
export async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The text a command works on: `-` reads standard input, `--file` a file, otherwise the words
 * given, joined by spaces. Exactly one source; none is a USAGE error.
 */
export async function readTextInput(
  words: readonly string[],
  file: string | undefined,
  stdin: Readable,
  cwd: string,
): Promise<string | undefined> {
  if (file !== undefined && words.length > 0) throw new CliError({ code: 'USAGE', message: 'Give the text or --file, not both.' });
  if (file !== undefined) {
    try {
      return readFileSync(resolve(cwd, file), 'utf8');
    } catch (error) {
      throw new CliError({ code: 'USAGE', message: `Cannot read ${file}: ${(error as Error).message}`, cause: error });
    }
  }
  if (words.length === 1 && words[0] === '-') return readStream(stdin);
  if (words.length === 0) return undefined;
  return words.join(' ');
}

/** Parses JSON given on the command line; a USAGE error naming the option otherwise. */
export function parseJsonOption(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError({
      code: 'USAGE',
      message: `${name} is not valid JSON: ${(error as Error).message}`,
      hint: `Example: ${name} '{"to":"eve@example.com"}'`,
    });
  }
}
