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
