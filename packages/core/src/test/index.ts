import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScanner, type Scanner, type ScannerOptions } from '../scanner/create-scanner.js';
import type { Detection, ScanResult } from '../types.js';

/**
 * Builds a detection with sensible defaults, for tests of code that consumes detections.
 *
 * @example
 * const detection = buildDetection({ family: 'PII', ruleId: 'pii-001', tags: ['personal.pii.email'] });
 */
export function buildDetection(overrides: Partial<Detection> = {}): Detection {
  return {
    ruleId: 'pi-001',
    family: 'PI',
    name: 'Instruction override',
    severity: 'CRITICAL',
    confidence: 0.95,
    tags: ['attack.injection.override'],
    span: { start: 0, end: 10 },
    ...overrides,
  };
}

/** A scan result holding the given detections. */
export function buildScanResult(detections: Detection[] = [], overrides: Partial<ScanResult> = {}): ScanResult {
  return { detections, truncated: false, scannedLength: 0, ...overrides };
}

/**
 * A scanner over rule packs given as YAML strings only (none of the shipped packs), written to a
 * temporary directory.
 *
 * @example
 * const scanner = createTestScanner({ 'pi.yaml': 'family: PI\nrules: [...]' });
 */
export function createTestScanner(packs: Record<string, string>, options: Omit<ScannerOptions, 'rulesDirectory'> = {}): Scanner {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-rules-'));
  for (const [name, yaml] of Object.entries(packs)) writeFileSync(join(directory, name), yaml);
  return createScanner({ ...options, rulesDirectory: directory });
}

/** A recheck attack as kept in test/fixtures/redos-attacks.json. */
export interface RedosAttack {
  where: string;
  source: string;
  flags: string;
  pumps: { prefix: string; pump: string }[];
  suffix: string;
}

/**
 * Rebuilds a recheck attack string about `length` characters long: each prefix followed by its
 * pumped part repeated, then the suffix.
 */
export function redosAttackString(attack: RedosAttack, length: number): string {
  const perPump = Math.max(1, Math.floor(length / Math.max(1, attack.pumps.length)));
  const body = attack.pumps
    .map(({ prefix, pump }) => prefix + pump.repeat(Math.max(1, Math.floor(perPump / Math.max(1, pump.length)))))
    .join('');
  return `${body}${attack.suffix}`.slice(0, length);
}

export type {
  ConformanceCase,
  ConformanceEvaluate,
  ConformanceEvaluateOptions,
  ConformanceExpectation,
  ConformanceResult,
  RunConformanceCaseOptions,
} from '../conformance/run-conformance.js';
export {
  conformanceDirectory,
  evaluateWithGuard,
  loadConformanceCases,
  parseConformanceFile,
  runConformanceCase,
} from '../conformance/run-conformance.js';
export { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from './local-http-server.js';
