/**
 * The meaningful part of git's stderr for an error message. Git ends many failures with advice
 * ("Please make sure you have the correct access rights / and the repository exists."), so its last
 * line alone says nothing; its `fatal:` and `error:` lines say what went wrong.
 */

/** At most this many lines of git's output go into one message. */
const MAX_LINES = 3;

/**
 * The `fatal:`/`error:` lines of git's stderr (prefix removed, joined with "; "), else its first
 * non-advice lines; 'git failed' when git printed nothing. Redact secrets before or after as needed.
 */
export function gitErrorText(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^hint:/i.test(l));
  const fatal = lines.filter((l) => /^(fatal|error):/i.test(l)).map((l) => l.replace(/^(fatal|error):\s*/i, ''));
  const chosen = fatal.length > 0 ? fatal : lines;
  return chosen.slice(0, MAX_LINES).join('; ') || 'git failed';
}
