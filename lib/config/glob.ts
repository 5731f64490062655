/** Matches `*` (any run of characters) and `?` (one character) against the whole text. */
export const globMatch = (pattern: string, text: string): boolean => {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
};
