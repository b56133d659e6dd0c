import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig, loadConfig } from '@palisade/core';
import { afterEach, describe, expect, it } from 'vitest';
import { initConfigTemplate, initPolicyTestTemplate } from '../config/init-template.js';
import { runPolicyTests } from './run-policy-tests.js';

const folders: string[] = [];
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

function project(tests: Record<string, string>): { configPath: string; compiled: ReturnType<typeof compileConfig> } {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-policy-tests-'));
  folders.push(directory);
  const configPath = join(directory, 'palisade.yaml');
  writeFileSync(configPath, initConfigTemplate);
  mkdirSync(join(directory, 'policy-tests'));
  for (const [name, text] of Object.entries(tests)) writeFileSync(join(directory, 'policy-tests', name), text);
  return { configPath, compiled: compileConfig(loadConfig({ path: configPath })) };
}

describe('runPolicyTests', () => {
  it("passes the example cases init writes, run against palisade.yaml with the file's policy", async () => {
    const report = await runPolicyTests(project({ 'support.yaml': initPolicyTestTemplate }));
    expect(report.problems).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(6);
  });

  it('reports each failing case with what differed', async () => {
    const report = await runPolicyTests(
      project({
        'support.yaml': `cases:
  - name: wrong on purpose
    event: { boundary: tool_call, tool: email.send, args: { to: eve@example.com }, scope: { tenantId: acme }, detections: [] }
    expect: { action: allow }
  - name: skipped
    skip: not decided yet
    event: { boundary: input, text: hi }
    expect: { action: allow }
`,
      }),
    );
    expect(report.results.map((result) => [result.name, result.status])).toEqual([
      ['wrong on purpose', 'fail'],
      ['skipped', 'skip'],
    ]);
    expect(report.results[0]?.mismatches).toEqual(['action: expected "allow", got "escalate"']);
  });

  it('uses the policy a case names instead of the file one', async () => {
    const report = await runPolicyTests(
      project({
        'support.yaml': `cases:
  - name: strict blocks a medium detection
    event:
      boundary: input
      text: x
      scope: { policyId: strict }
      detections: [{ ruleId: pii-001, family: PII, severity: MEDIUM }]
    expect: { action: block, effectivePolicyId: strict, resolutionSource: request }
`,
      }),
    );
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(1);
  });

  it('reports a file named after no policy, and a case the format refuses', async () => {
    const report = await runPolicyTests(
      project({
        'suport.yaml': 'cases:\n  - { name: a, event: { boundary: input, text: x }, expect: { action: allow } }\n',
        'support.yaml': 'cases:\n  - name: typo\n    event: { boundary: input, text: x }\n    expect: { acton: allow }\n',
      }),
    );
    expect(report.problems).toHaveLength(2);
    expect(report.problems[0]).toContain('suport.yaml: there is no policy "suport"');
    expect(report.problems[1]).toMatch(/^support\.yaml:4: .*unknown key "acton"/);
  });

  it('finds nothing to run without a policy-tests folder', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'palisade-policy-tests-'));
    folders.push(directory);
    writeFileSync(join(directory, 'palisade.yaml'), 'version: 1\n');
    const report = await runPolicyTests({
      configPath: join(directory, 'palisade.yaml'),
      compiled: compileConfig(loadConfig({ path: join(directory, 'palisade.yaml') })),
    });
    expect(report).toMatchObject({ files: [], results: [], problems: [] });
  });
});
