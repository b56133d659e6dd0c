import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceCase,
  evaluateWithGuard,
  loadConformanceCases,
  parseConformanceFile,
  runConformanceCase,
} from './run-conformance.js';

const cases = loadConformanceCases();

describe('the conformance corpus', () => {
  const byFile = new Map<string, ConformanceCase[]>();
  for (const testCase of cases) byFile.set(testCase.file, [...(byFile.get(testCase.file) ?? []), testCase]);

  for (const [file, fileCases] of byFile) {
    describe(file, () => {
      for (const testCase of fileCases) {
        if (testCase.skip !== undefined) {
          it.skip(`${testCase.name} (skipped: ${testCase.skip})`, () => {});
          continue;
        }
        it(testCase.name, async () => {
          const result = await runConformanceCase(testCase, evaluateWithGuard);
          if (!result.ok) {
            const decided = result.decision
              ? `\n  decision: ${result.decision.action} by ${JSON.stringify(result.decision.decidedBy)} (${result.decision.reason})`
              : '';
            expect.fail(`${file}:${testCase.line} "${testCase.name}"\n  ${result.mismatches.join('\n  ')}${decided}`);
          }
        });
      }
    });
  }

  it('holds at least 150 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it('still fails every skipped case (un-skip a case once the engine passes it)', async () => {
    const passing: string[] = [];
    for (const testCase of cases.filter((item) => item.skip !== undefined)) {
      const result = await runConformanceCase(testCase, evaluateWithGuard, { includeSkipped: true });
      if (result.ok) passing.push(`${testCase.file} > ${testCase.name}`);
    }
    expect(passing).toEqual([]);
  });
});

describe('loadConformanceCases', () => {
  const load = (files: Record<string, string>) => {
    const directory = mkdtempSync(join(tmpdir(), 'palisade-conformance-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
    return () => loadConformanceCases(directory);
  };

  it('loads cases with their file, line and a shared config object for a shared anchor', () => {
    const loaded = load({
      'a.yaml': [
        'definitions:',
        '  strict: &strict { defaults: { policy: strict } }',
        'cases:',
        '  - name: one',
        '    config: *strict',
        '    event: { boundary: input, detections: [{ ruleId: pi-001, family: PI, severity: LOW }] }',
        '    expect: { action: flag }',
        '  - name: two',
        '    config: *strict',
        '    event: { boundary: input }',
        '    expect: { action: allow }',
        '',
      ].join('\n'),
      'notes.md': 'not a case file',
    })();
    expect(loaded.map((item) => [item.file, item.line, item.name])).toEqual([
      ['a.yaml', 4, 'one'],
      ['a.yaml', 8, 'two'],
    ]);
    expect(loaded[0]?.config).toBe(loaded[1]?.config);
    expect(loaded[0]?.event?.detections?.[0]).toMatchObject({ confidence: 0.9, tags: [], span: { start: 0, end: 0 }, name: 'pi-001' });
  });

  it('names the file, line, case and field of an unknown expectation (a typo must not pass silently)', () => {
    const run = load({
      'bad.yaml': 'cases:\n  - name: typo\n    event: { boundary: input }\n    expect:\n      actoin: block\n',
    });
    expect(run).toThrow(/bad\.yaml:5: case 1 "typo": expect: unknown key "actoin"/);
    expect(run).not.toThrow(/nothing to check/);
  });

  it('names a bad value, a missing event and a duplicate name', () => {
    const run = load({
      'bad.yaml': [
        'cases:',
        '  - name: wrong action',
        '    event: { boundary: input }',
        '    expect: { action: deny }',
        '  - name: no event',
        '    expect: { action: allow }',
        '  - name: dup',
        '    event: { boundary: input }',
        '    expect: { action: allow }',
        '  - name: dup',
        '    event: { boundary: output }',
        '    expect: { action: allow }',
        '',
      ].join('\n'),
    });
    expect(run).toThrow(/bad\.yaml:4: case 1 "wrong action": expect\.action: /);
    expect(run).toThrow(/bad\.yaml:5: case 2 "no event": event: event is required/);
    expect(run).toThrow(/bad\.yaml:10: case 4 "dup": the name is also used by the case on line 7/);
  });

  it('names a bad detection and an expectation that checks nothing', () => {
    const problems: string[] = [];
    parseConformanceFile(
      'x.yaml',
      [
        'cases:',
        '  - name: bad family',
        '    event:',
        '      boundary: input',
        '      detections:',
        '        - { ruleId: x-1, family: XX, severity: HIGH }',
        '    expect: { action: block }',
        '  - name: empty',
        '    event: { boundary: input }',
        '    expect: {}',
        '',
      ].join('\n'),
      problems,
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^x\.yaml:6: case 1 "bad family": event\.detections\.0\.family: /);
    expect(problems[1]).toMatch(/^x\.yaml:10: case 2 "empty": expect: expect names nothing to check/);
  });

  it('names YAML syntax errors and a file without cases', () => {
    const run = load({ 'broken.yaml': 'cases:\n  - name: [unclosed\n', 'empty.yaml': 'description: nothing here\n' });
    expect(run).toThrow(/broken\.yaml:\d+:\d+: /);
    expect(run).toThrow(/empty\.yaml:1: cases: /);
  });
});

describe('runConformanceCase', () => {
  const base = (expectation: ConformanceCase['expect']): ConformanceCase => ({
    file: 'inline.yaml',
    line: 1,
    name: 'inline',
    config: {},
    event: { boundary: 'input', detections: [] },
    expect: expectation,
  });

  it('compares only the named fields and lists every mismatch', async () => {
    expect(await runConformanceCase(base({ action: 'allow' }), evaluateWithGuard)).toEqual({ ok: true });
    const result = await runConformanceCase(base({ action: 'block', resolutionSource: 'tenant', reason: 'nope' }), evaluateWithGuard);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.mismatches).toEqual([
      'action: expected "block", got "allow"',
      'resolutionSource: expected "tenant", got "system_default"',
      'reason: expected to contain "nope", got "No rule matched"',
    ]);
  });

  it('reports skipped cases without running them', async () => {
    const evaluate = () => Promise.reject(new Error('must not run'));
    expect(await runConformanceCase({ ...base({ action: 'allow' }), skip: 'engine bug' }, evaluate)).toEqual({
      ok: true,
      skipped: 'engine bug',
    });
  });

  it('checks an expected configuration error by code and message', async () => {
    const refused = {
      ...base({ error: { code: 'INVALID_CONFIG', message: 'unknown policy "nope"' } }),
      config: { defaults: { policy: 'nope' } },
    };
    expect(await runConformanceCase(refused, evaluateWithGuard)).toEqual({ ok: true });
    const accepted = { ...refused, config: {} };
    expect(await runConformanceCase(accepted, evaluateWithGuard)).toMatchObject({ ok: false });
  });
});
