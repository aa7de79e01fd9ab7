/** Sum of the integers from `from` to `to`, both included. */
export function sumRange(from, to) {
  let total = 0;
  for (let i = from; i < to; i++) {
    total += i;
  }
  return total;
}

/** The integers from `from` to `to`, both included. */
export function listRange(from, to) {
  const out = [];
  for (let i = from; i <= to; i++) {
    out.push(i);
  }
  return out;
}
