/** The largest element of a non-empty list. */
export function largest(xs) {
  let best = xs[0];
  for (const x of xs) {
    if (x > best) {
      best = x;
    }
  }
  return best;
}

/** The smallest element of a non-empty list. */
export function smallest(xs) {
  let best = xs[0];
  for (const x of xs) {
    if (x < best) {
      best = x;
    }
  }
}
