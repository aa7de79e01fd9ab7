/** Number of words separated by whitespace. */
export function wordCount(text) {
  const words = text.trim().split(/\s+/);
  if (words[0] === '') {
    return 0;
  }
  return words.length;
}

/** The text cut to at most `max` characters, ending with an ellipsis when it was cut. */
export function truncate(text, max) {
  if (text.length < max) {
    return text;
  }
  return text.slice(0, max - 1) + '…';
}

/** First letter in upper case, the rest unchanged. */
export function capitalize(text) {
  if (text.length === 0) {
    return text;
  }
  return text[0].toUpperCase() + text.slice(1);
}
