import type { PolicyRuleDefinition } from './types.js';

export const presetNames = ['monitor', 'balanced', 'strict'] as const;
export type PresetName = (typeof presetNames)[number];

/**
 * The built-in policies. Low priorities (0-10), so the rules of a policy that `extends` one
 * override them at any priority above.
 * - monitor: never blocks; logs every detection.
 * - balanced (the system default): blocks CRITICAL, and HIGH at confidence >= 0.85; flags the
 *   rest of HIGH and MEDIUM; logs LOW.
 * - strict: blocks CRITICAL, HIGH and MEDIUM; flags LOW.
 */
export const presets: Readonly<Record<PresetName, readonly PolicyRuleDefinition[]>> = {
  monitor: [
    {
      name: 'monitor: log every detection',
      priority: 0,
      action: 'log',
      reason: 'Monitor mode: detections are logged, never blocked',
      match: { min_confidence: 0 },
    },
  ],
  balanced: [
    {
      name: 'balanced: block critical',
      priority: 10,
      action: 'block',
      reason: 'Critical-severity detection',
      match: { severity: 'CRITICAL' },
    },
    {
      name: 'balanced: block confident high',
      priority: 10,
      action: 'block',
      reason: 'High-severity detection with confidence >= 0.85',
      match: { severity: 'HIGH', min_confidence: 0.85 },
    },
    {
      name: 'balanced: flag high',
      priority: 5,
      action: 'flag',
      reason: 'High-severity detection below the blocking confidence',
      match: { severity: 'HIGH' },
    },
    { name: 'balanced: flag medium', priority: 5, action: 'flag', reason: 'Medium-severity detection', match: { severity: 'MEDIUM' } },
    { name: 'balanced: log low', priority: 5, action: 'log', reason: 'Low-severity detection', match: { severity: 'LOW' } },
  ],
  strict: [
    {
      name: 'strict: block medium and above',
      priority: 10,
      action: 'block',
      reason: 'Detection of medium severity or above',
      match: { severity: '>=MEDIUM' },
    },
    { name: 'strict: flag low', priority: 5, action: 'flag', reason: 'Low-severity detection', match: { severity: 'LOW' } },
  ],
};

export function isPresetName(name: string): name is PresetName {
  return (presetNames as readonly string[]).includes(name);
}
