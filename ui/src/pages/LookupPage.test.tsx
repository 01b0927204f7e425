// The lookup page: NHS error pattern for bad input, keyboard use, and stale answers dropped.
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockIPC } from '@tauri-apps/api/mocks';
import { describe, expect, it } from 'vitest';
import type { NhsNumberCheck } from '../backend';
import { axeViolations } from '../test/axe';
import { LookupPage } from './LookupPage';

const INVALID: NhsNumberCheck = {
  status: 'invalid',
  code: 'check_digit',
  message: 'Enter a valid NHS number. The number you entered is not a real NHS number',
};

function mockChecks(answer: (input: string) => NhsNumberCheck | Promise<NhsNumberCheck>) {
  const calls: string[] = [];
  mockIPC((command, payload) => {
    if (command !== 'check_nhs_number') return null;
    const input = (payload as { input: string }).input;
    calls.push(input);
    return answer(input);
  });
  return calls;
}

describe('LookupPage', () => {
  it('has focus on the NHS number field and no accessibility violations', async () => {
    const { container } = render(<LookupPage />);
    expect(screen.getByRole('textbox', { name: /NHS number/ })).toHaveFocus();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows the error summary and inline message for an invalid number', async () => {
    const calls = mockChecks(() => INVALID);
    const { container } = render(<LookupPage />);
    await userEvent.keyboard('9999999991{Enter}');
    expect(calls).toEqual(['9999999991']);
    const summary = await screen.findByRole('alert');
    expect(summary).toHaveTextContent('There is a problem');
    expect(summary).toHaveTextContent('Enter a valid NHS number');
    const link = screen.getByRole('link', { name: /Enter a valid NHS number/ });
    expect(link).toHaveAttribute('href', '#nhs-number');
    const field = screen.getByRole('textbox', { name: /NHS number/ });
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('confirms a valid number in its spaced form', async () => {
    mockChecks(() => ({ status: 'valid', formatted: '999 000 0018' }));
    render(<LookupPage />);
    await userEvent.keyboard('999-000-0018{Enter}');
    expect(await screen.findByTestId('nhs-number-valid')).toHaveTextContent(
      '999 000 0018 is a valid NHS number.',
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('clears the field and the result on Escape', async () => {
    mockChecks(() => INVALID);
    render(<LookupPage />);
    await userEvent.keyboard('123{Enter}');
    await screen.findByRole('alert');
    await userEvent.keyboard('{Escape}');
    expect(screen.getByRole('textbox', { name: /NHS number/ })).toHaveValue('');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('never shows a late answer for an earlier number', async () => {
    let releaseFirst: (check: NhsNumberCheck) => void = () => undefined;
    mockChecks((input) =>
      input === '1'
        ? new Promise<NhsNumberCheck>((resolve) => {
            releaseFirst = resolve;
          })
        : { status: 'valid', formatted: '999 000 0018' },
    );
    render(<LookupPage />);
    await userEvent.keyboard('1{Enter}');
    await userEvent.keyboard('{Escape}9990000018{Enter}');
    expect(await screen.findByTestId('nhs-number-valid')).toBeInTheDocument();
    releaseFirst(INVALID);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByTestId('nhs-number-valid')).toHaveTextContent('999 000 0018');
  });

  it('says the number could not be checked when the backend fails', async () => {
    mockIPC(() => {
      throw new Error('boom');
    });
    render(<LookupPage />);
    await userEvent.keyboard('9990000018{Enter}');
    expect(await screen.findByTestId('nhs-number-check-failed')).toHaveTextContent(
      'could not be checked',
    );
  });
});
