// What the user typed, spaced like an NHS number when it is 10 digits, to say which check this was.

/** `9990000018` or `999-000-0018` as `999 000 0018`; anything else as typed, trimmed. */
export function formatEntered(entered: string): string {
  const digits = entered.replace(/[\s-]/g, '');
  if (/^\d{10}$/.test(digits)) {
    return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
  }
  return entered.trim();
}
