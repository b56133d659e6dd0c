import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ZodError } from 'zod';
import type { BudgetsConfig } from '../config/config-schema.js';
import { describeZodIssue, nodePosition } from '../config/yaml-position.js';
import { type ConfigIssue, InvalidConfigError } from '../errors/invalid-config-error.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { UnknownModelError } from '../errors/unknown-model-error.js';

const usageInputHint =
  'Token counts are non-negative integers and the model a non-empty id, e.g. { model: "gpt-4o", inputTokens: 1200, outputTokens: 300 }.';

// yaml and zod are required on first use: a process that never prices a call never loads them.
const require = createRequire(import.meta.url);

/** The price table shipped with @palisade/core (`prices/prices.yaml`). */
export const defaultPriceFile = fileURLToPath(new URL('../../prices/prices.yaml', import.meta.url));

/** A price tier in USD per million tokens. */
export interface PriceRates {
  input: number;
  output: number;
  /** Price of a cached input token; `undefined`: cached tokens cost `input`. */
  cachedInput: number | undefined;
}

/** The price of a model, as resolved for one model id. USD per million tokens. */
export interface Price extends PriceRates {
  /** The id the price is listed under (after aliases, snapshot prefixes and provider prefixes). */
  model: string;
  /** Vendor section of the price file, or `override` for an entry of `budgets.prices`. */
  vendor: string;
  /** How the id was found: see the lookup order in prices.yaml. */
  matchedBy: 'exact' | 'alias' | 'prefix';
  /** A higher tier for a request with more than `aboveInputTokens` input tokens (cached included). */
  longContext: (PriceRates & { aboveInputTokens: number }) | undefined;
}

/** Token counts of one call. */
export interface TokenUsage {
  model: string;
  /** Every input token, cached ones included (OpenAI's `prompt_tokens`, Gemini's `promptTokenCount`). */
  inputTokens: number;
  outputTokens: number;
  /** How many of `inputTokens` were read from the vendor's prompt cache. */
  cachedInputTokens?: number | undefined;
}

/** Entries of `budgets.prices`: USD per million tokens. */
export type PriceOverrides = BudgetsConfig['prices'];

export interface LoadPriceTableOptions {
  /** Prices that override and extend the shipped table (`budgets.prices`). */
  overrides?: PriceOverrides | undefined;
  /** `block` (default): an unpriced model throws `UnknownModelError`; `zero`: it costs nothing. */
  unknownModel?: 'block' | 'zero' | undefined;
  /** Another price file instead of the shipped one (same format). */
  path?: string | undefined;
}

export interface PriceTable {
  /** The `as_of` date of the price file. */
  readonly asOf: string;
  /** The price of a model id, or `undefined` when no step of the lookup order finds it. */
  lookup(model: string): Price | undefined;
  /**
   * The cost of a call in nano-dollars (1e-9 USD), an integer rounded up. Throws
   * `UnknownModelError` for an unpriced model (unless `unknownModel: 'zero'`) and
   * `InvalidInputError` for a token count that is not a non-negative integer.
   */
  cost(usage: TokenUsage): number;
}

/** Prices in pico-dollars (1e-12 USD) per token: integers, so costs are exact sums. */
interface PicoRates {
  input: number;
  output: number;
  cachedInput: number;
}

interface PriceEntry {
  price: Omit<Price, 'matchedBy'>;
  base: PicoRates;
  long: (PicoRates & { above: number }) | undefined;
}

interface ParsedPriceFile {
  asOf: string;
  entries: Map<string, PriceEntry>;
  /** alias -> id */
  aliases: Map<string, string>;
}

const parsedFiles = new Map<string, ParsedPriceFile>();

/**
 * The price table: the shipped `prices/prices.yaml` (read and validated once per process, on the
 * first call) with `budgets.prices` on top. See the header of prices.yaml for the lookup order.
 * Throws `InvalidConfigError` with file, line and column when the price file or an override is
 * invalid.
 *
 * INVARIANT: `cost` returns a non-negative safe integer of nano-dollars, never less than the exact
 * price (it rounds up), so a budget is never undercharged by rounding.
 *
 * @example
 * const prices = loadPriceTable({ overrides: { 'my-finetune': { input: 3, output: 12 } } });
 * prices.lookup('openai/gpt-4o-2024-08-06')?.model // 'gpt-4o'
 * prices.cost({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 }) // 7_500_000 (= $0.0075)
 */
export function loadPriceTable(options: LoadPriceTableOptions = {}): PriceTable {
  const path = options.path ?? defaultPriceFile;
  let file = parsedFiles.get(path);
  if (!file) {
    file = parsePriceFile(path);
    parsedFiles.set(path, file);
  }
  const entries = new Map(file.entries);
  for (const [id, entry] of overrideEntries(options.overrides ?? {})) entries.set(id, entry);
  const { aliases } = file;
  const unknownModel = options.unknownModel ?? 'block';

  // Lookups repeat the same few ids; remember them (bounded, so odd ids cannot grow memory).
  const memo = new Map<string, Price | null>();
  // INVARIANT: a Price handed out is frozen, so a caller cannot change what the next caller sees.
  const lookup = (model: string): Price | undefined => {
    if (typeof model !== 'string') return undefined;
    const remembered = memo.get(model);
    if (remembered !== undefined) return remembered ?? undefined;
    const resolved = resolve(model.trim().toLowerCase(), entries, aliases);
    const found = resolved && Object.freeze(resolved);
    if (memo.size >= 4096) memo.clear();
    memo.set(model, found ?? null);
    return found;
  };

  return {
    asOf: file.asOf,
    lookup,
    cost(usage) {
      const { inputTokens, outputTokens } = usage;
      const cachedInputTokens = usage.cachedInputTokens ?? 0;
      assertModel(usage.model, 'usage.model');
      assertTokenCount(inputTokens, 'usage.inputTokens');
      assertTokenCount(outputTokens, 'usage.outputTokens');
      assertTokenCount(cachedInputTokens, 'usage.cachedInputTokens');
      if (cachedInputTokens > inputTokens) {
        throw new InvalidInputError({
          hint: usageInputHint,
          path: 'usage.cachedInputTokens',
          message: `cachedInputTokens (${cachedInputTokens}) counts part of inputTokens (${inputTokens}) and cannot exceed it`,
        });
      }
      const price = lookup(usage.model);
      if (!price) {
        if (unknownModel === 'zero') return 0;
        throw new UnknownModelError({ model: usage.model });
      }
      const entry = entries.get(price.model) as PriceEntry;
      const rates = entry.long && inputTokens > entry.long.above ? entry.long : entry.base;
      return nanoDollars([
        [inputTokens - cachedInputTokens, rates.input],
        [cachedInputTokens, rates.cachedInput],
        [outputTokens, rates.output],
      ]);
    },
  };
}

const providerPrefix = /^[a-z0-9][a-z0-9_-]*[/:]/;
const snapshotTag = /^(?:\d{3}|latest(?:$|[-@:]))/;

/** Steps 1-4 of the lookup order (prices.yaml header) for a trimmed, lower-cased id. */
function resolve(id: string, entries: ReadonlyMap<string, PriceEntry>, aliases: ReadonlyMap<string, string>): Price | undefined {
  let candidate = id;
  for (;;) {
    if (candidate.length === 0) return undefined;
    const exact = entries.get(candidate);
    if (exact) return { ...exact.price, matchedBy: 'exact' };
    const aliased = aliases.get(candidate);
    const target = aliased === undefined ? undefined : entries.get(aliased);
    if (target) return { ...target.price, matchedBy: 'alias' };
    // Longest known id that the candidate extends with a snapshot tag.
    for (let index = candidate.length - 1; index > 0; index--) {
      const separator = candidate[index];
      if (separator !== '-' && separator !== '@') continue;
      const prefixed = entries.get(candidate.slice(0, index));
      if (prefixed && snapshotTag.test(candidate.slice(index + 1))) return { ...prefixed.price, matchedBy: 'prefix' };
    }
    const provider = providerPrefix.exec(candidate);
    if (!provider) return undefined;
    candidate = candidate.slice(provider[0].length);
  }
}

/** ceil(Σ tokens × pico-dollars / 1000): exact in doubles while it can be, in BigInt beyond. */
function nanoDollars(terms: readonly [tokens: number, pico: number][]): number {
  let pico = 0;
  for (const [tokens, rate] of terms) pico += tokens * rate;
  if (Number.isSafeInteger(pico)) return Math.ceil(pico / 1000);
  let exact = 0n;
  for (const [tokens, rate] of terms) exact += BigInt(tokens) * BigInt(rate);
  const nano = (exact + 999n) / 1000n;
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidInputError({
      hint: usageInputHint,
      path: 'usage',
      message: 'the token counts are too large to price (the cost exceeds 9e15 nano-dollars)',
    });
  }
  return Number(nano);
}

/** Throws `InvalidInputError` unless `value` is a non-negative safe integer (a token count). */
export function assertTokenCount(value: unknown, path: string): void {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return;
  throw new InvalidInputError({
    hint: usageInputHint,
    path,
    message: `expected a non-negative integer number of tokens, got ${describe(value)}`,
  });
}

function assertModel(value: unknown, path: string): void {
  if (typeof value === 'string' && value.trim().length > 0) return;
  throw new InvalidInputError({ hint: usageInputHint, path, message: `expected a model id (a non-empty string), got ${describe(value)}` });
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** USD per million tokens to integer pico-dollars per token (prices have at most 6 decimals). */
function toPico(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e6);
}

function hasAtMostSixDecimals(value: number): boolean {
  return Math.abs(value * 1e6 - Math.round(value * 1e6)) < 1e-6 && Number.isSafeInteger(Math.round(value * 1e6));
}

function picoRates(rates: { input: number; output: number; cached_input?: number | undefined }): PicoRates {
  return { input: toPico(rates.input), output: toPico(rates.output), cachedInput: toPico(rates.cached_input ?? rates.input) };
}

function publicRates(rates: { input: number; output: number; cached_input?: number | undefined }): PriceRates {
  return { input: rates.input, output: rates.output, cachedInput: rates.cached_input };
}

function overrideEntries(overrides: PriceOverrides): [string, PriceEntry][] {
  const issues: ConfigIssue[] = [];
  const result: [string, PriceEntry][] = [];
  for (const [model, rates] of Object.entries(overrides)) {
    const id = model.trim().toLowerCase();
    for (const field of ['input', 'output', 'cached_input'] as const) {
      const value = rates[field];
      if (value === undefined && field === 'cached_input') continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !hasAtMostSixDecimals(value)) {
        issues.push({
          file: 'budgets.prices',
          path: `budgets.prices.${model}.${field}`,
          message: `expected USD per million tokens (a number >= 0 with at most 6 decimals), got ${describe(value)}`,
        });
      }
    }
    if (id.length === 0) issues.push({ file: 'budgets.prices', path: 'budgets.prices', message: 'a model id cannot be empty' });
    result.push([
      id,
      { price: { model: id, vendor: 'override', ...publicRates(rates), longContext: undefined }, base: picoRates(rates), long: undefined },
    ]);
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return result;
}

function priceFileSchema() {
  const { z } = require('zod') as typeof import('zod');
  const usd = z.number().min(0).refine(hasAtMostSixDecimals, 'a price has at most 6 decimals (USD per million tokens)');
  const rates = { input: usd, output: usd, cached_input: usd.optional() };
  const lowerCaseId = z.string().regex(/^[a-z0-9][a-z0-9._:/@-]*$/, 'ids and aliases are lower case: letters, digits and . _ : / @ -');
  const model = z.strictObject({
    ...rates,
    long_context: z.strictObject({ above_input_tokens: z.number().int().positive(), ...rates }).optional(),
    aliases: z.array(lowerCaseId).default([]),
  });
  const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date written as 'YYYY-MM-DD' (quoted)");
  return z.strictObject({
    as_of: date,
    vendors: z.record(z.string().min(1), z.strictObject({ as_of: date, source: z.string().min(1), models: z.record(lowerCaseId, model) })),
  });
}

function parsePriceFile(file: string): ParsedPriceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidConfigError([{ file, path: '', message: `cannot read the price file: ${(error as Error).message}` }]);
  }
  const yaml = require('yaml') as typeof import('yaml');
  const lineCounter = new yaml.LineCounter();
  const document = yaml.parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new InvalidConfigError(
      document.errors.map((error) => {
        const at = lineCounter.linePos(error.pos[0]);
        return { file, line: at.line, column: at.col, path: '', message: error.message };
      }),
    );
  }
  const parsed = priceFileSchema().safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    throw new InvalidConfigError(
      (parsed.error as ZodError).issues.map((issue) => {
        const { path, ...where } = describeZodIssue(issue, { document, lineCounter });
        return { file, ...where, path: path.join('.') };
      }),
    );
  }

  const issues: ConfigIssue[] = [];
  const report = (path: (string | number)[], message: string) =>
    issues.push({ file, ...nodePosition(document, lineCounter, path), path: path.join('.'), message });
  const entries = new Map<string, PriceEntry>();
  const vendorOf = new Map<string, string>();
  for (const [vendor, section] of Object.entries(parsed.data.vendors)) {
    for (const [id, model] of Object.entries(section.models)) {
      const earlier = vendorOf.get(id);
      if (earlier) report(['vendors', vendor, 'models', id], `model "${id}" is also listed under vendor ${earlier}`);
      vendorOf.set(id, vendor);
      const long = model.long_context;
      entries.set(id, {
        price: {
          model: id,
          vendor,
          ...publicRates(model),
          longContext: long ? Object.freeze({ aboveInputTokens: long.above_input_tokens, ...publicRates(long) }) : undefined,
        },
        base: picoRates(model),
        long: long ? { above: long.above_input_tokens, ...picoRates(long) } : undefined,
      });
    }
  }
  // INVARIANT: an id or alias names one price; an alias that is also an id would never be reached.
  const aliases = new Map<string, string>();
  for (const [vendor, section] of Object.entries(parsed.data.vendors)) {
    for (const [id, model] of Object.entries(section.models)) {
      model.aliases.forEach((alias, index) => {
        const path = ['vendors', vendor, 'models', id, 'aliases', index];
        if (entries.has(alias)) report(path, `alias "${alias}" of ${id} is also a model id`);
        else if (aliases.has(alias)) report(path, `alias "${alias}" of ${id} is also an alias of ${aliases.get(alias)}`);
        else aliases.set(alias, id);
      });
    }
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return { asOf: parsed.data.as_of, entries, aliases };
}
