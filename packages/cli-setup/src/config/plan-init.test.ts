import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig, createGuard, loadConfig } from '@palisade/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.js';
import { applyInitPlan, planInit } from './plan-init.js';

const folders: string[] = [];
const folder = () => {
  const path = mkdtempSync(join(tmpdir(), 'palisade-init-'));
  folders.push(path);
  return path;
};
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe('planInit', () => {
  it('writes a valid, commented palisade.yaml, example policy tests and the state folder', () => {
    const directory = folder();
    const plan = planInit({ configPath: join(directory, 'palisade.yaml') });
    expect(plan.files.map((file) => [file.path.slice(directory.length + 1), file.kind])).toEqual([
      ['palisade.yaml', 'create'],
      ['policy-tests/support.yaml', 'create'],
      ['.palisade/.gitignore', 'create'],
    ]);
    expect(applyInitPlan(plan).written).toHaveLength(3);
    const text = readFileSync(join(directory, 'palisade.yaml'), 'utf8');
    expect(text.split('\n').filter((line) => line.includes('#')).length).toBeGreaterThan(15);
    const compiled = compileConfig(loadConfig({ path: join(directory, 'palisade.yaml') }));
    expect(compiled.defaults.policy).toBe('balanced');
    expect([...compiled.tenants.keys()]).toEqual(['acme']);
    expect(statSync(join(directory, '.palisade')).isDirectory()).toBe(true);
  });

  it('makes an external email from the example tenant escalate, and keeps the company domain free', async () => {
    const directory = folder();
    applyInitPlan(planInit({ configPath: join(directory, 'palisade.yaml') }));
    const guard = createGuard({ configPath: join(directory, 'palisade.yaml'), state: false });
    try {
      const external = await guard.checkToolCall({ tool: 'email.send', args: { to: 'eve@partner.example' } }, { tenantId: 'acme' });
      expect(external.action).toBe('escalate');
      const internal = await guard.evaluate({
        boundary: 'tool_call',
        tool: 'email.send',
        args: { to: 'bob@acme.example' },
        detections: [],
        scope: { tenantId: 'acme' },
      });
      expect(internal.action).toBe('allow');
    } finally {
      await guard.close();
    }
  });

  it('refuses to overwrite a palisade.yaml without force, and leaves it as it was', () => {
    const directory = folder();
    writeFileSync(join(directory, 'palisade.yaml'), 'version: 1\n# mine\n');
    let error: unknown;
    try {
      planInit({ configPath: join(directory, 'palisade.yaml') });
    } catch (caught) {
      error = caught;
    }
    expect(CliError.isInstance(error) && error.code).toBe('FILE_EXISTS');
    expect((error as CliError).hint).toContain('--force');
    expect(readFileSync(join(directory, 'palisade.yaml'), 'utf8')).toBe('version: 1\n# mine\n');
  });

  it('overwrites with force, but never the state folder', () => {
    const directory = folder();
    applyInitPlan(planInit({ configPath: join(directory, 'palisade.yaml') }));
    writeFileSync(join(directory, 'palisade.yaml'), 'version: 1\n');
    writeFileSync(join(directory, '.palisade', '.gitignore'), '# my own\n*\n');
    const plan = planInit({ configPath: join(directory, 'palisade.yaml'), force: true });
    expect(plan.files.map((file) => file.kind)).toEqual(['overwrite', 'keep', 'keep']);
    applyInitPlan(plan);
    expect(readFileSync(join(directory, 'palisade.yaml'), 'utf8')).toContain('tenants:');
    expect(readFileSync(join(directory, '.palisade', '.gitignore'), 'utf8')).toBe('# my own\n*\n');
  });

  it('writes nothing on a dry run', () => {
    const directory = folder();
    expect(applyInitPlan(planInit({ configPath: join(directory, 'palisade.yaml') }), { dryRun: true })).toEqual({ written: [] });
    expect(() => statSync(join(directory, 'palisade.yaml'))).toThrow();
  });
});
