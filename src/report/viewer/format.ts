/** How numbers, times and pass rates read in the report, and the colours they get. */
import { scaleLinear } from 'd3-scale';

export const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${Math.round(x * 100)}%`);

export const interval = (lo: number, hi: number): string => `[${pct(lo)}–${pct(hi)}]`;

export const seconds = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

export const usd = (x: number): string => (x === 0 ? '$0' : x < 0.01 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`);

export function when(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Pass rates are coloured against the root: red below it, pale yellow at it, green above it,
 * reaching full colour at the archive's worst and best rates, so small gains still show.
 */
let rateScale = scaleLinear<string>().domain([0, 0.5, 1]).range(['#d73027', '#fee08b', '#1a9850']).clamp(true);
export const colourDomain = { lo: 0, root: 0.5, hi: 1 };

export function setColourDomain(rates: (number | null)[], root: number | null): void {
  const known = rates.filter((r): r is number => r !== null);
  const mid = root ?? 0.5;
  const lo = Math.min(mid - 0.02, ...known);
  const hi = Math.max(mid + 0.02, ...known);
  Object.assign(colourDomain, { lo, root: mid, hi });
  rateScale = scaleLinear<string>().domain([lo, mid, hi]).range(['#d73027', '#fee08b', '#1a9850']).clamp(true);
}

export const UNKNOWN_COLOUR = '#c9ced6';

/** Colours are bucketed (steps of 2.5%) so the canvas draws one path per colour. */
export const RATE_BUCKETS = 41;

export const bucketOf = (rate: number | null): number => (rate === null ? -1 : Math.round(rate * (RATE_BUCKETS - 1)));

export const bucketColour = (bucket: number): string => (bucket < 0 ? UNKNOWN_COLOUR : rateScale(bucket / (RATE_BUCKETS - 1)));

export const rateColour = (rate: number | null): string => bucketColour(bucketOf(rate));
