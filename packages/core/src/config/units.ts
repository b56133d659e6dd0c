const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const sizeUnits: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Milliseconds of a duration written as `250ms`, `30s`, `15m`, `24h`, `7d`, `2w` (or a number of
 * milliseconds). Returns undefined for anything else.
 *
 * @example parseDuration('15m') // 900000
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (durationUnits[(match[2] as string).toLowerCase()] as number));
}

/**
 * Bytes of a size written as `512KB`, `64MB`, `1GB`, `100B` (binary units) or a number of bytes.
 *
 * @example parseSize('64MB') // 67108864
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (sizeUnits[(match[2] as string).toLowerCase()] as number));
}
