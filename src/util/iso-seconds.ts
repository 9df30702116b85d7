// `YYYY-MM-DDTHH:MM:SSZ`, the time format of QuickBlox's created_at/updated_at (chat/views.ts), shared
// with the store that writes message views itself (storage/sqlite/read-messages.ts).
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
/** Years 0000–9999, where toISOString has four-digit years. */
const FOUR_DIGIT_YEARS = [-62_167_219_200_000, 253_402_300_800_000] as const;
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * The time `ms` (epoch milliseconds) as `YYYY-MM-DDTHH:MM:SSZ`. A page of history formats two per
 * message, so the date part is formatted once per day and the time part by arithmetic.
 */
export function isoSecondsOf(ms: number): string {
  if (!(ms >= FOUR_DIGIT_YEARS[0] && ms < FOUR_DIGIT_YEARS[1])) return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  const seconds = Math.floor((ms - day * DAY_MS) / 1000);
  return `${cachedDayPrefix}${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}Z`;
}

export const isoSeconds = (d: Date): string => isoSecondsOf(d.getTime());
