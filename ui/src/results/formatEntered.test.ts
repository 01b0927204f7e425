// Spacing of the NHS number the user entered.
import { describe, expect, it } from 'vitest';
import { formatEntered } from './formatEntered';

describe('formatEntered', () => {
  it('spaces 10 digits like an NHS number and leaves anything else as typed', () => {
    expect(formatEntered('9990000018')).toBe('999 000 0018');
    expect(formatEntered(' 999-000-0018 ')).toBe('999 000 0018');
    expect(formatEntered('99900A0018')).toBe('99900A0018');
    expect(formatEntered('123')).toBe('123');
  });
});
