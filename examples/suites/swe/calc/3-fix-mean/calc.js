export const add = (a, b) => a + b;

export const clamp = (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x);

export const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
