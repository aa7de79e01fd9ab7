/** Sum of a list of numbers. */
export function sum(xs) {
  let total = 0;
  for (const x of xs) {
    total += x;
  }
  return total;
}

/** Arithmetic mean of a non-empty list. */
export function mean(xs) {
  return sum(xs) / xs.length;
}

/** Middle value of a non-empty list (mean of the two middle values for an even length). */
export function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 0) {
    return sorted[mid];
  }
  return (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Difference between the largest and the smallest value. */
export function spread(xs) {
  return Math.max(...xs) - Math.min(...xs);
}
