/** The larger of two numbers. */
export function max(a, b) {
  if (a > b) {
    return a;
  }
  return b;
}

/** `x` limited to the interval [lo, hi]. */
export function clamp(x, lo, hi) {
  if (x < lo) {
    return lo;
  }
  if (x < hi) {
    return hi;
  }
  return x;
}
