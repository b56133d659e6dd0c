import { createScanner, redact } from '@palisade/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStreamHoldBack, type ReleasedStretch } from './stream-hold-back.js';

const scanner = createScanner({ families: ['SEC', 'PII'] });
const scan = (text: string) => scanner.scan(text).detections;
const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

/** Streams `deltas` through a hold-back and returns what was released, stretch by stretch (redacting every detection). */
function run(deltas: readonly string[], options: { holdBackChars?: number; maxHoldBackChars?: number } = {}) {
  const holdBack = createStreamHoldBack({ scan, ...options });
  const released: { afterDelta: number; stretch: ReleasedStretch }[] = [];
  let maxHeld = 0;
  deltas.forEach((delta, index) => {
    const stretch = holdBack.push(delta);
    if (stretch) released.push({ afterDelta: index, stretch });
    maxHeld = Math.max(maxHeld, holdBack.heldLength);
  });
  const rest = holdBack.end();
  if (rest) released.push({ afterDelta: deltas.length, stretch: rest });
  const shown = released.map(({ stretch }) => redact(stretch.text, stretch.detections).text).join('');
  return { released, shown, maxHeld, raw: released.map(({ stretch }) => stretch.text).join('') };
}

describe('createStreamHoldBack', () => {
  it('catches a secret split across two deltas', () => {
    const { shown, raw } = run(['my key is ghp_abcdefghijklmn', `opqrstuvwxyz0123456789 and ${'more prose '.repeat(20)}`]);
    expect(shown).toContain('my key is [REDACTED:GITHUB] and');
    expect(shown).not.toContain('ghp_');
    expect(raw).toBe(`my key is ${token} and ${'more prose '.repeat(20)}`);
  });

  it('catches a secret split across three deltas', () => {
    const { shown, released } = run(['key ghp_abcdefghij', 'klmnopqrstuvwxyz01', `23456789 then ${'plain words '.repeat(20)}`]);
    expect(shown.startsWith('key [REDACTED:GITHUB] then')).toBe(true);
    // The whole token was released in one stretch, with its detection.
    const withToken = released.find(({ stretch }) => stretch.text.includes(token));
    expect(withToken?.stretch.detections.map((detection) => detection.ruleId)).toEqual(['sec-004']);
  });

  it('catches a secret split one character at a time', () => {
    const text = `before ${token} after ${'x '.repeat(100)}`;
    const { shown } = run([...text]);
    expect(shown).toContain('before [REDACTED:GITHUB] after');
  });

  it('keeps keyword context that was already released ("password:" then the value)', () => {
    const prose = 'We set up the service account yesterday and noted everything down. ';
    const holdBack = createStreamHoldBack({ scan, holdBackChars: 0 });
    const first = holdBack.push(`${prose}The password: `);
    // "password:" is out before the value arrives…
    expect(first?.text).toContain('The password:');
    const second = holdBack.push('Sup3rSecretV4lue is rotated monthly.');
    const rest = holdBack.end();
    // …and the value is still found, in the stretch that carries it.
    const stretches = [second, rest].filter((stretch): stretch is ReleasedStretch => stretch !== undefined);
    const shown = stretches.map((stretch) => redact(stretch.text, stretch.detections).text).join('');
    expect(shown).toBe('[REDACTED:GENERIC] is rotated monthly.');
  });

  it('releases a long benign stream as it goes, holding back only a bounded tail', () => {
    const deltas = Array.from({ length: 200 }, (_, index) => `word${index} `);
    const { released, maxHeld, raw } = run(deltas);
    expect(raw).toBe(deltas.join(''));
    // First text out long before the end, then a stretch every few deltas: never more than the
    // window (128), a stretch's worth (32) and one delta behind.
    expect(released[0]?.afterDelta).toBeLessThan(25);
    expect(released.filter(({ afterDelta }) => afterDelta < deltas.length).length).toBeGreaterThan(30);
    expect(maxHeld).toBeLessThanOrEqual(128 + 32 + 8);
  });

  it('does not scan while nothing can be released yet', () => {
    let scans = 0;
    const holdBack = createStreamHoldBack({
      scan: (text) => {
        scans++;
        return scan(text);
      },
    });
    for (const delta of ['Hello ', 'there, ', 'how are ', 'you today? ']) expect(holdBack.push(delta)).toBeUndefined();
    expect(scans).toBe(0);
    expect(holdBack.end()?.text).toBe('Hello there, how are you today? ');
    expect(scans).toBe(1);
  });

  it('holds an unbroken run of non-space characters until it ends, up to maxHoldBackChars', () => {
    const run1 = run(['a'.repeat(300), 'b'.repeat(300), ' done'], { holdBackChars: 16, maxHoldBackChars: 1024 });
    expect(run1.released[0]?.afterDelta).toBe(2);
    const capped = run(['c'.repeat(3000)], { holdBackChars: 16, maxHoldBackChars: 1024 });
    expect(capped.maxHeld).toBe(1024);
    expect(capped.released[0]?.stretch.text.length).toBe(3000 - 1024);
  });

  it('never holds more than maxHoldBackChars after a push, whatever the deltas', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 400 }), { maxLength: 30 }), (deltas) => {
        const { maxHeld, raw } = run(deltas, { holdBackChars: 32, maxHoldBackChars: 256 });
        return maxHeld <= 256 && raw === deltas.join('');
      }),
      { numRuns: 200 },
    );
  });

  it('redacts a streamed secret exactly as the whole text is redacted, however the stream is split', () => {
    const secrets = [token, 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD', 'alice.smith@example.org', '4111 1111 1111 1111'];
    fc.assert(
      fc.property(
        fc.constantFrom(...secrets),
        fc.lorem({ maxCount: 30 }),
        fc.lorem({ maxCount: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (secret, before, after, cuts) => {
          const text = `${before} ${secret} ${after}`;
          const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((left, right) => left - right);
          const deltas = [0, ...points].map((start, index) => text.slice(start, points[index] ?? text.length));
          const { shown } = run(deltas);
          return !shown.includes(secret) && shown === redact(text, scan(text)).text;
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hands a stretch to the guard when the scanner throws (the guard then fails closed)', () => {
    const holdBack = createStreamHoldBack({
      scan: () => {
        throw new Error('scanner broke');
      },
      holdBackChars: 4,
      releaseChars: 1,
    });
    expect(holdBack.push('hello world')).toMatchObject({ text: 'hello ', detections: [], scanFailed: true });
  });

  it('refuses bounds that cannot work', () => {
    expect(() => createStreamHoldBack({ scan, holdBackChars: -1 })).toThrow(/holdBackChars/);
    expect(() => createStreamHoldBack({ scan, holdBackChars: 64, maxHoldBackChars: 32 })).toThrow(/maxHoldBackChars must be/);
    expect(() => createStreamHoldBack({ scan, releaseChars: 0 })).toThrow(/releaseChars must be/);
  });
});
