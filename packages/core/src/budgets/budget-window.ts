import type { BudgetPeriod } from '../store/store.js';

const day = 86_400_000;

/** One budget window: `start` inclusive, `end` exclusive, both ms since the epoch. */
export interface BudgetWindow {
  start: number;
  end: number;
}

/**
 * The window of a budget period that contains `at`, in UTC whatever the process time zone: a day
 * from 00:00, an ISO week from Monday 00:00, a month from the 1st 00:00. The window's `end` is
 * when the counter resets (`resetsAt`).
 *
 * INVARIANT: `start <= at < end`, and consecutive windows meet exactly (the `end` of one is the
 * `start` of the next), so every instant is counted in exactly one window per period.
 *
 * @example
 * budgetWindow('week', Date.parse('2026-11-22T04:00:00Z')) // a Sunday
 * // { start: Date.parse('2026-11-16T00:00:00Z'), end: Date.parse('2026-11-23T00:00:00Z') }
 */
export function budgetWindow(period: BudgetPeriod, at: number): BudgetWindow {
  const date = new Date(at);
  const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  switch (period) {
    case 'day':
      return { start: dayStart, end: dayStart + day };
    case 'week': {
      // getUTCDay: 0 is Sunday; ISO weeks start on Monday.
      const sinceMonday = (date.getUTCDay() + 6) % 7;
      const start = dayStart - sinceMonday * day;
      return { start, end: start + 7 * day };
    }
    case 'month':
      return {
        start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
        end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
      };
  }
}
