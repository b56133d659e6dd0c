import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { type AuditRecord, GENESIS_HASH, parseReceiptLine, sealReceipt, sha256Hex } from './seal-receipt.js';

const record: AuditRecord = { kind: 'decision', time: '2026-01-02T03:04:05.000Z', eventId: 'evt-1', tenantId: 'acme', action: 'block' };

describe('sealReceipt', () => {
  it('hashes the canonical JSON of the record with seq and prev, and writes it with the hash', () => {
    const { hash, line } = sealReceipt(record, 1, GENESIS_HASH);
    expect(hash).toBe(sha256Hex(canonicalJson({ ...record, seq: 1, prev: GENESIS_HASH })));
    expect(line).toBe(canonicalJson({ ...record, seq: 1, prev: GENESIS_HASH, hash }));
  });

  it('ignores seq, prev and hash given by the caller', () => {
    const sealed = sealReceipt({ ...record, seq: 99, prev: 'x', hash: 'y' }, 2, 'a'.repeat(64));
    expect(sealed).toEqual(sealReceipt(record, 2, 'a'.repeat(64)));
  });

  it('agrees byte for byte with canonicalJson for any JSON record (its fast path is differential-tested here)', () => {
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.anything({
        maxDepth: 3,
        withDate: true,
        withNullPrototype: true,
        values: [fc.constant(undefined), fc.constant(-0), fc.double({ noNaN: true, noDefaultInfinity: true })],
      }),
      // Quotes, backslashes, control characters, lone and paired surrogates, U+2028.
      fc.array(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'binary-ascii' }),
          fc.constantFrom('"', '\\', '\u0000', '\ud800', '🙂', '\u2028'),
        ),
      ),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), json, { maxKeys: 8 }), fc.nat({ max: 1e9 }), (extra, seq) => {
        const input = { ...extra, ...record };
        const base = { ...input, seq: seq + 1, prev: GENESIS_HASH, hash: undefined };
        // What canonicalJson refuses (an invalid Date, say), sealing refuses with the same error.
        let expected: string;
        try {
          expected = sha256Hex(canonicalJson(base));
        } catch (error) {
          expect(() => sealReceipt(input, seq + 1, GENESIS_HASH)).toThrow(error as Error);
          return;
        }
        const { hash, line } = sealReceipt(input, seq + 1, GENESIS_HASH);
        expect(hash).toBe(expected);
        expect(line).toBe(canonicalJson({ ...base, hash }));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an invalid Date with a TypeError, where JSON.stringify would write null', () => {
    expect(JSON.stringify({ at: new Date(Number.NaN) })).toBe('{"at":null}');
    expect(() => canonicalJson({ at: new Date(Number.NaN) })).toThrow(new TypeError('canonical JSON cannot carry an invalid Date'));
    expect(() => sealReceipt({ ...record, at: new Date(Number.NaN) }, 1, GENESIS_HASH)).toThrow(TypeError);
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('seals deep nesting like canonicalJson, and refuses what canonicalJson refuses with the same error', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 200; level++) deep = level % 2 ? { level: deep } : [deep];
    const sealed = sealReceipt({ ...record, data: deep }, 1, GENESIS_HASH);
    expect(sealed.line).toBe(canonicalJson({ ...record, data: deep, seq: 1, prev: GENESIS_HASH, hash: sealed.hash }));

    let tooDeep: unknown = 'leaf';
    for (let level = 0; level < 400; level++) tooDeep = { level: tooDeep };
    expect(() => canonicalJson({ ...record, data: tooDeep })).toThrow(TypeError);
    expect(() => sealReceipt({ ...record, data: tooDeep }, 1, GENESIS_HASH)).toThrow(
      (() => {
        try {
          canonicalJson({ ...record, data: tooDeep });
        } catch (error) {
          return (error as Error).message;
        }
      })(),
    );

    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = { again: [cycle] };
    for (const bad of [cycle, 10n, Number.NaN, () => 1, Symbol('s'), new Date(Number.NaN)]) {
      let expected: unknown;
      try {
        canonicalJson({ data: bad });
      } catch (error) {
        expected = error;
      }
      expect(() => sealReceipt({ ...record, data: bad }, 1, GENESIS_HASH)).toThrow((expected as Error).message);
    }
  });
});

describe('parseReceiptLine', () => {
  const { line } = sealReceipt(record, 1, GENESIS_HASH);

  it('accepts a sealed receipt', () => {
    expect(parseReceiptLine(line)).toMatchObject({ ok: true, receipt: { seq: 1, kind: 'decision' } });
  });

  it('names what is wrong with an edited line', () => {
    expect(parseReceiptLine(line.replace('block', 'allow'))).toMatchObject({ ok: false, problem: expect.stringMatching(/^hash mismatch/) });
    expect(parseReceiptLine(line.replace('{', '{ '))).toMatchObject({ ok: false, problem: expect.stringMatching(/^not canonical JSON/) });
    expect(parseReceiptLine(line.slice(0, -1))).toMatchObject({ ok: false, problem: expect.stringMatching(/^unparseable/) });
    expect(parseReceiptLine('[1]')).toMatchObject({ ok: false, problem: expect.stringMatching(/^not a receipt/) });
  });
});
