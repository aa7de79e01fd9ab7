export const add = (a, b) => a + b;

export const clamp = (x, lo, hi) => (x < lo ? lo : x);

export const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
