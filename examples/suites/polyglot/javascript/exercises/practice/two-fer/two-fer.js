export const twoFer = () => {
  throw new Error('Remove this statement and implement this function');
};
