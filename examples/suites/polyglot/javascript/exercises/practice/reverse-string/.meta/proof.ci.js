export const reverseString = (text) => [...text].reverse().join('');
