export const reverseString = () => {
  throw new Error('Remove this statement and implement this function');
};
