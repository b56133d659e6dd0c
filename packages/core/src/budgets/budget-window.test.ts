import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { budgetWindow } from './budget-window.js';

const utc = (iso: string) => Date.parse(iso);
const window = (start: string, end: string) => ({ start: utc(start), end: utc(end) });

describe('budgetWindow', () => {
  it('runs a day from 00:00 UTC to the next 00:00 UTC', () => {
    expect(budgetWindow('day', utc('2026-03-10T23:59:59.999Z'))).toEqual(window('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z'));
    expect(budgetWindow('day', utc('2026-03-11T00:00:00Z'))).toEqual(window('2026-03-11T00:00:00Z', '2026-03-12T00:00:00Z'));
  });

  it('runs a week from Monday 00:00 UTC (ISO weeks), also across a year end', () => {
    // 2026-11-22 is a Sunday: the last day of the week that began on Monday the 16th.
    expect(budgetWindow('week', utc('2026-11-22T23:00:00Z'))).toEqual(window('2026-11-16T00:00:00Z', '2026-11-23T00:00:00Z'));
    expect(budgetWindow('week', utc('2026-11-23T00:00:00Z'))).toEqual(window('2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z'));
    // 2026-01-01 is a Thursday: its week began in 2025.
    expect(budgetWindow('week', utc('2026-01-01T12:00:00Z'))).toEqual(window('2025-12-29T00:00:00Z', '2026-01-05T00:00:00Z'));
  });

  it('runs a month from the 1st 00:00 UTC, whatever its length', () => {
    expect(budgetWindow('month', utc('2028-02-29T23:59:59Z'))).toEqual(window('2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'));
    expect(budgetWindow('month', utc('2026-12-31T23:59:59.999Z'))).toEqual(window('2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'));
    expect(budgetWindow('month', utc('2027-01-01T00:00:00Z'))).toEqual(window('2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z'));
  });

  it('gives the same windows in every process time zone', () => {
    // A worker thread cannot change its time zone, so each zone runs in a child process.
    const source = readFileSync(fileURLToPath(new URL('./budget-window.ts', import.meta.url)), 'utf8');
    const module = join(mkdtempSync(join(tmpdir(), 'palisade-window-')), 'budget-window.mjs');
    writeFileSync(
      module,
      ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText,
    );
    const at = utc('2026-11-22T23:30:00Z'); // already Monday in Kiritimati, still Sunday in Los Angeles
    const script = `const { budgetWindow } = await import(${JSON.stringify(pathToFileURL(module).href)});
      console.log(JSON.stringify({ offset: new Date(${at}).getTimezoneOffset(), windows: ['day', 'week', 'month'].map((period) => budgetWindow(period, ${at})) }));`;
    const expected = (['day', 'week', 'month'] as const).map((period) => budgetWindow(period, at));
    const offsets = new Set<number>();
    for (const zone of ['Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata']) {
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
      });
      const result = JSON.parse(output) as { offset: number; windows: unknown };
      offsets.add(result.offset);
      expect(result.windows, zone).toEqual(expected);
    }
    expect(offsets.size).toBe(3);
  });

  it('puts every instant in exactly one window, and windows meet end to start', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: utc('1971-01-01T00:00:00Z'), max: utc('2200-01-01T00:00:00Z') }),
        fc.constantFrom('day', 'week', 'month' as const),
        (at, period) => {
          const { start, end } = budgetWindow(period, at);
          expect(start).toBeLessThanOrEqual(at);
          expect(at).toBeLessThan(end);
          expect(budgetWindow(period, end).start).toBe(end);
          expect(budgetWindow(period, end - 1)).toEqual({ start, end });
          if (period === 'day') expect(end - start).toBe(86_400_000);
          if (period === 'week') expect(new Date(start).getUTCDay()).toBe(1);
          if (period === 'month') expect(new Date(start).getUTCDate()).toBe(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
