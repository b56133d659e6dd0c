import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../errors/invalid-config-error.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { UnknownModelError } from '../errors/unknown-model-error.js';
import { loadPriceTable } from './price-table.js';

const prices = loadPriceTable();

/** A price file in a temporary directory, for the tests of a bad file. */
function priceFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'palisade-prices-')), 'prices.yaml');
  writeFileSync(path, text);
  return path;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('loadPriceTable > lookup', () => {
  it('finds a model by its exact id', () => {
    expect(prices.lookup('gpt-4o')).toMatchObject({
      model: 'gpt-4o',
      vendor: 'openai',
      input: 2.5,
      output: 10,
      cachedInput: 1.25,
      matchedBy: 'exact',
    });
  });

  it('prefers an exact snapshot id over the prefix of its family (gpt-4o-2024-05-13 kept its launch price)', () => {
    expect(prices.lookup('gpt-4o-2024-05-13')).toMatchObject({ model: 'gpt-4o-2024-05-13', input: 5, output: 15, matchedBy: 'exact' });
  });

  it('finds a model by an alias', () => {
    expect(prices.lookup('claude-sonnet-4-20250514')).toMatchObject({ model: 'claude-sonnet-4-0', matchedBy: 'alias' });
    expect(prices.lookup('gpt-5-chat-latest')).toMatchObject({ model: 'gpt-5', matchedBy: 'alias' });
  });

  it('falls back to the longest known id followed by a snapshot tag', () => {
    expect(prices.lookup('gpt-4o-2024-08-06')).toMatchObject({ model: 'gpt-4o', matchedBy: 'prefix' });
    expect(prices.lookup('gpt-4o-mini-2024-07-18')).toMatchObject({ model: 'gpt-4o-mini', matchedBy: 'prefix' });
    expect(prices.lookup('claude-3-5-haiku-latest')).toMatchObject({ model: 'claude-3-5-haiku', input: 0.8 });
    expect(prices.lookup('claude-opus-4-1-20250805')).toMatchObject({ model: 'claude-opus-4-1', input: 15 });
    expect(prices.lookup('claude-sonnet-4-5@20250929')).toMatchObject({ model: 'claude-sonnet-4-5' });
    expect(prices.lookup('gemini-2.0-flash-001')).toMatchObject({ model: 'gemini-2.0-flash' });
    expect(prices.lookup('gpt-5.1-2025-11-13')).toMatchObject({ model: 'gpt-5.1' });
  });

  it('never treats a suffix that names another model as a snapshot', () => {
    expect(prices.lookup('gpt-5-pro')).toMatchObject({ model: 'gpt-5-pro', input: 15 });
    expect(prices.lookup('o3-pro')).toMatchObject({ model: 'o3-pro', input: 20 });
    expect(prices.lookup('gpt-4o-audio-preview')).toBeUndefined();
    expect(prices.lookup('gpt-4.5-preview')).toBeUndefined();
    expect(prices.lookup('gpt-4-32k')).toBeUndefined();
    expect(prices.lookup('deepseek-r1-distill-llama-70b')).toBeUndefined();
  });

  it('strips provider prefixes, one after another', () => {
    expect(prices.lookup('openai/gpt-4o')).toMatchObject({ model: 'gpt-4o', matchedBy: 'exact' });
    expect(prices.lookup('anthropic:claude-sonnet-4-5')).toMatchObject({ model: 'claude-sonnet-4-5' });
    expect(prices.lookup('openrouter/openai/gpt-4.1-mini')).toMatchObject({ model: 'gpt-4.1-mini' });
    expect(prices.lookup('models/gemini-2.5-flash')).toMatchObject({ model: 'gemini-2.5-flash' });
    expect(prices.lookup('openai/gpt-4o-2024-08-06')).toMatchObject({ model: 'gpt-4o', matchedBy: 'prefix' });
  });

  it('ignores case and surrounding spaces (host ids are often mixed case)', () => {
    expect(prices.lookup('meta-llama/Llama-3.3-70B-Instruct-Turbo')).toMatchObject({ model: 'llama-3.3-70b-instruct', matchedBy: 'alias' });
    expect(prices.lookup('  GPT-4o  ')).toMatchObject({ model: 'gpt-4o' });
  });

  it('returns undefined for a model nobody prices', () => {
    expect(prices.lookup('made-up-model')).toBeUndefined();
    expect(prices.lookup('')).toBeUndefined();
    expect(prices.lookup('openai/')).toBeUndefined();
  });
});

describe('loadPriceTable > overrides', () => {
  const overridden = loadPriceTable({
    overrides: { 'gpt-4o': { input: 1, output: 2 }, 'Acme/My-Finetune': { input: 3, output: 12, cached_input: 1.5 } },
  });

  it('replaces a shipped price, for its aliases and snapshots too', () => {
    expect(overridden.lookup('gpt-4o')).toMatchObject({ vendor: 'override', input: 1, output: 2, cachedInput: undefined });
    expect(overridden.lookup('gpt-4o-2024-08-06')).toMatchObject({ vendor: 'override', input: 1, matchedBy: 'prefix' });
    expect(overridden.cost({ model: 'gpt-4o', inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(3_000_000_000);
  });

  it('adds models the shipped table does not know, under their full id', () => {
    expect(overridden.lookup('acme/my-finetune')).toMatchObject({ model: 'acme/my-finetune', input: 3, matchedBy: 'exact' });
  });

  it('leaves the shared shipped table untouched', () => {
    expect(prices.lookup('gpt-4o')).toMatchObject({ vendor: 'openai', input: 2.5 });
  });

  it('rejects a negative or over-precise override with a typed configuration error', () => {
    const error = thrown(() => loadPriceTable({ overrides: { cheap: { input: -1, output: 0.0000001 } } }));
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as InvalidConfigError).issues.map((issue) => issue.path)).toEqual([
      'budgets.prices.cheap.input',
      'budgets.prices.cheap.output',
    ]);
  });
});

describe('loadPriceTable > cost', () => {
  it('prices input and output tokens in integer nano-dollars', () => {
    // 1,000 × $2.50/M + 500 × $10/M = $0.0075
    expect(prices.cost({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 })).toBe(7_500_000);
  });

  it('charges cached input tokens (part of inputTokens) at the cached rate', () => {
    // 600 × $2.50/M + 400 × $1.25/M = $0.002
    expect(prices.cost({ model: 'gpt-4o', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 0 })).toBe(2_000_000);
    // Without a cached rate, cached tokens cost the full input price.
    expect(prices.cost({ model: 'gpt-4-turbo', inputTokens: 1000, cachedInputTokens: 1000, outputTokens: 0 })).toBe(10_000_000);
  });

  it('rounds a fraction of a nano-dollar up, never down', () => {
    const table = loadPriceTable({ overrides: { tiny: { input: 0.0015, output: 0 } } });
    expect(table.cost({ model: 'tiny', inputTokens: 1, outputTokens: 0 })).toBe(2);
    expect(table.cost({ model: 'tiny', inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('charges the whole request at the long-context tier above its threshold', () => {
    expect(prices.cost({ model: 'claude-sonnet-4-5', inputTokens: 200_000, outputTokens: 1000 })).toBe(615_000_000);
    expect(prices.cost({ model: 'claude-sonnet-4-5', inputTokens: 200_001, outputTokens: 1000 })).toBe(1_222_506_000);
  });

  it('stays exact beyond 2^53 pico-dollars', () => {
    // 100M output tokens of o1-pro at $600/M = $60,000.
    expect(prices.cost({ model: 'o1-pro', inputTokens: 0, outputTokens: 100_000_000 })).toBe(60_000 * 1e9);
  });

  it('throws UnknownModelError for an unpriced model', () => {
    const error = thrown(() => prices.cost({ model: 'made-up-model', inputTokens: 1, outputTokens: 1 }));
    expect(UnknownModelError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNKNOWN_MODEL', model: 'made-up-model' });
    expect((error as Error).message).toContain('budgets.prices');
  });

  it('counts an unpriced model as free with unknownModel: zero', () => {
    expect(loadPriceTable({ unknownModel: 'zero' }).cost({ model: 'made-up-model', inputTokens: 1000, outputTokens: 1000 })).toBe(0);
  });

  it.each([
    ['a negative count', { inputTokens: -1, outputTokens: 0 }, 'usage.inputTokens'],
    ['NaN', { inputTokens: 1, outputTokens: Number.NaN }, 'usage.outputTokens'],
    ['a fraction', { inputTokens: 1.5, outputTokens: 0 }, 'usage.inputTokens'],
    ['a string', { inputTokens: '10' as unknown as number, outputTokens: 0 }, 'usage.inputTokens'],
    ['Infinity', { inputTokens: Number.POSITIVE_INFINITY, outputTokens: 0 }, 'usage.inputTokens'],
    ['more cached than input tokens', { inputTokens: 1, cachedInputTokens: 2, outputTokens: 0 }, 'usage.cachedInputTokens'],
  ])('rejects %s with InvalidInputError', (_name, counts, path) => {
    const error = thrown(() => prices.cost({ model: 'gpt-4o', ...counts }));
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', path });
  });

  it('rejects a missing model id with InvalidInputError', () => {
    expect(thrown(() => prices.cost({ model: ' ', inputTokens: 1, outputTokens: 1 }))).toMatchObject({
      code: 'INVALID_INPUT',
      path: 'usage.model',
    });
  });
});

describe('the shipped price file', () => {
  it('says when and where its prices were read', () => {
    expect(prices.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('prices the common models of every vendor', () => {
    for (const model of [
      'gpt-5',
      'gpt-5-mini',
      'gpt-5-nano',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4.1-nano',
      'gpt-4o',
      'gpt-4o-mini',
      'o3',
      'o4-mini',
      'claude-opus-4-5',
      'claude-sonnet-4-5',
      'claude-haiku-4-5',
      'claude-3-5-haiku-latest',
      'claude-3-7-sonnet-20250219',
      'gemini-2.5-pro',
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.0-flash',
      'deepseek-chat',
      'mistral-large-latest',
      'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8',
      'deepseek-ai/DeepSeek-V3',
      'deepseek-ai/DeepSeek-R1',
      'Qwen/Qwen2.5-72B-Instruct-Turbo',
      'mistralai/Mixtral-8x7B-Instruct-v0.1',
    ]) {
      expect(prices.lookup(model), model).toBeDefined();
    }
  });
});

describe('loadPriceTable > a bad price file', () => {
  const valid = "as_of: '2026-01-01'\nvendors:\n  acme:\n    as_of: '2026-01-01'\n    source: test\n    models:\n";

  it('points at the line of a bad price', () => {
    const path = priceFile(`${valid}      good: { input: 1, output: 2 }\n      bad: { input: -1, output: 2 }\n`);
    const error = thrown(() => loadPriceTable({ path }));
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as InvalidConfigError).issues).toEqual([
      expect.objectContaining({ file: path, line: 8, path: 'vendors.acme.models.bad.input' }),
    ]);
    expect((error as Error).message).toContain(`${path}:8:`);
  });

  it('points at an unknown key itself', () => {
    const path = priceFile(`${valid}      good: { input: 1, output: 2, ouput: 3 }\n`);
    const error = thrown(() => loadPriceTable({ path })) as InvalidConfigError;
    expect(error.issues[0]).toMatchObject({ line: 7, path: 'vendors.acme.models.good.ouput' });
    expect(error.issues[0]?.message).toContain('unknown key "ouput"');
  });

  it('reports YAML syntax errors with their position', () => {
    const path = priceFile(`${valid}      good: { input: 1, output: 2\n`);
    expect((thrown(() => loadPriceTable({ path })) as InvalidConfigError).issues[0]).toMatchObject({
      file: path,
      line: expect.any(Number),
    });
  });

  it('rejects an id listed twice, an alias that is an id, and an upper-case id', () => {
    const path = priceFile(
      `${valid}      one: { input: 1, output: 2, aliases: [two] }\n      two: { input: 1, output: 2 }\n` +
        "  other:\n    as_of: '2026-01-01'\n    source: test\n    models:\n      one: { input: 1, output: 2 }\n",
    );
    const error = thrown(() => loadPriceTable({ path })) as InvalidConfigError;
    expect(error.issues.map((issue) => [issue.line, issue.message])).toEqual([
      [13, 'model "one" is also listed under vendor acme'],
      [7, 'alias "two" of one is also a model id'],
    ]);
    const upper = priceFile(`${valid}      GPT-X: { input: 1, output: 2 }\n`);
    expect((thrown(() => loadPriceTable({ path: upper })) as InvalidConfigError).issues[0]?.message).toContain('lower case');
  });

  it('reports a file that cannot be read', () => {
    const error = thrown(() => loadPriceTable({ path: join(tmpdir(), 'palisade-no-such-prices.yaml') })) as InvalidConfigError;
    expect(error.issues[0]?.message).toContain('cannot read the price file');
  });
});
