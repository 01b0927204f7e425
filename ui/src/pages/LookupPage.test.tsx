// The lookup page: every outcome has its own state, stale answers are dropped, keyboard use works.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { LookupResponse } from '../backend';
import { axeViolations } from '../test/axe';
import {
  CHILD,
  COULD_NOT_CHECK,
  COULD_NOT_CHECK_REFUSED,
  CPP,
  DECEASED,
  ENDED_LAC,
  FUTURE_CPP,
  INVALID_NUMBER,
  MOTHER,
  NO_PLAN,
  NO_PLAN_WORDING,
  NO_TRUST_CONTACTS,
  NOT_RECORDED,
  PARTIAL_BIRTH_DATE,
  PATIENT_NOT_FOUND,
  RESTRICTED,
  SUPERSEDED,
  TRACE_ID,
  TRUST_CONTACTS,
  TYPE_NOT_READ,
  UNBORN,
  UNBORN_DUE_PASSED,
  planFound,
} from '../test/fixtures';
import { callsTo, deferred, mockBackend, type Handler, ipcRejection } from '../test/ipc';
import { SLOW_AFTER_MS } from '../components/CheckingMessage';
import { LookupPage } from './LookupPage';

function mockLookups(answer: (input: string) => unknown, more: Record<string, Handler> = {}) {
  return mockBackend({
    lookup: (args) => answer(args.input as string),
    ...more,
  });
}

function field() {
  return screen.getByRole('textbox', { name: /NHS number/ });
}

async function lookUp(text: string) {
  await userEvent.keyboard(`${text}{Enter}`);
}

describe('LookupPage', () => {
  it('has focus on the NHS number field and no accessibility violations', async () => {
    mockLookups(() => NO_PLAN);
    const { container } = render(<LookupPage />);
    expect(field()).toHaveFocus();
    expect(screen.getByTestId('notify-note')).toHaveTextContent('tells the local authority');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says when the role checks without telling the local authority', () => {
    mockLookups(() => NO_PLAN);
    render(<LookupPage unscheduled={false} />);
    expect(screen.getByTestId('notify-note')).toHaveTextContent('without telling the local authority');
  });

  it('shows the error summary and inline message for an invalid number', async () => {
    const calls = mockLookups(() => INVALID_NUMBER);
    const { container } = render(<LookupPage />);
    await lookUp('9999999991');
    expect(callsTo(calls, 'lookup')).toEqual([{ input: '9999999991' }]);
    const summary = await screen.findByRole('alert');
    expect(summary).toHaveTextContent('There is a problem');
    expect(summary).toHaveTextContent('Enter a valid NHS number');
    const link = screen.getByRole('link', { name: /Enter a valid NHS number/ });
    expect(link).toHaveAttribute('href', '#nhs-number');
    expect(field()).toHaveAttribute('aria-invalid', 'true');
    expect(container.querySelector('.nhsuk-error-message')).toHaveTextContent(
      'Enter a valid NHS number',
    );
    expect(field()).toHaveFocus();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows a found plan under the patient banner with whom to phone', async () => {
    const calls = mockLookups(() => planFound());
    const { container } = render(<LookupPage />);
    await lookUp('999 000 0018');
    expect(callsTo(calls, 'lookup')).toEqual([{ input: '999 000 0018' }]);
    const result = await screen.findByTestId('result-plan-found');

    const banner = within(result).getByTestId('patient-banner');
    expect(banner).toHaveTextContent('TESTCHILD, Jamie');
    expect(banner).toHaveTextContent('6 August 2018');
    expect(banner).toHaveTextContent('Male');
    expect(banner).toHaveTextContent('999 000 0018');
    expect(banner).toHaveTextContent('Checked at 25 November 2026 at 9.30am');

    const callout = within(result).getByTestId('plan-callout');
    expect(within(callout).getByRole('heading', { name: /Child protection information found/ })).toBeInTheDocument();
    expect(callout).toHaveTextContent('Child protection plan');
    expect(callout).toHaveTextContent('Active');
    expect(callout).toHaveTextContent('Started 5 January 2026. No end date.');
    expect(callout).toHaveTextContent('Northshire County Council');

    // The local authority's numbers are in the callout, on the first screen.
    expect(within(callout).getByText('Monday to Friday office hours')).toBeInTheDocument();
    expect(within(callout).getByText('Out of hours: emergency duty team')).toBeInTheDocument();
    expect(within(callout).getByRole('link', { name: '01632 960001' })).toHaveAttribute(
      'href',
      'tel:+441632960001',
    );
    expect(within(callout).getByRole('link', { name: '01632 960999' })).toHaveAttribute(
      'href',
      'tel:+441632960999',
    );
    expect(within(callout).getByTestId('la-phones')).toHaveTextContent('Northshire County Council');
    expect(callout).toHaveTextContent("The numbers are from the local authority's CP-IS record.");
    expect(within(result).getByText('Sam Testworker')).toBeInTheDocument();
    expect(within(result).getByRole('link', { name: '07700 900123' })).toHaveAttribute(
      'href',
      'tel:+447700900123',
    );
    expect(within(result).getByText('Shared by the local authority')).toBeInTheDocument();
    expect(result).not.toHaveTextContent(NO_PLAN_WORDING);
    expect(result).not.toHaveTextContent('did not happen');

    // The field is ready for the next patient.
    expect(field()).toHaveFocus();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows the access history as a table and a timeline picture', async () => {
    mockLookups(() => planFound());
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const history = await screen.findByTestId('access-history');
    const table = within(history).getByRole('table', { name: /last 25 views/ });
    // A header row and four views.
    expect(within(table).getAllByRole('row')).toHaveLength(5);
    expect(table).toHaveTextContent('Southvale Walk-in Centre');
    expect(within(history).getByTestId('access-summary')).toHaveTextContent(
      '4 views by 3 organisations. This record has been looked at by more than one organisation.',
    );
    // 25 November, 22 November and 20 November are within 7 days of the newest view.
    expect(within(history).getByTestId('access-recent')).toHaveTextContent(
      'In the last 7 days: 3 views by 3 organisations.',
    );
    const picture = within(history).getByRole('img', { name: /Timeline of views/ });
    expect(picture).toHaveAccessibleName(
      'Timeline of views of this record 4 views by 3 organisations, from 2 November 2026 at 8.45am to 25 November 2026 at 9.30am.',
    );
    expect(picture.querySelectorAll('circle')).toHaveLength(4);
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says the access history could not be loaded and never shows it as empty', async () => {
    mockLookups(() =>
      planFound({
        access_history: [],
        access_history_unavailable: 'The child protection service took too long to answer.',
      }),
    );
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const history = await screen.findByTestId('access-history');
    expect(history).toHaveTextContent('The access history could not be loaded.');
    expect(history).toHaveTextContent('took too long');
    expect(history).not.toHaveTextContent('No views are recorded');
    expect(within(history).queryByRole('table')).not.toBeInTheDocument();
    expect(within(history).queryByRole('img')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('words an unborn child protection plan for a maternity booking', async () => {
    mockLookups(() =>
      planFound({ patient: MOTHER, plans: [UNBORN], access_history: [] }),
    );
    const { container } = render(<LookupPage />);
    await lookUp('9990000026');
    const result = await screen.findByTestId('result-plan-found');
    expect(within(result).getByTestId('patient-banner')).toHaveTextContent('TESTMOTHER, Morgan');
    const callout = within(result).getByTestId('plan-callout');
    expect(
      within(callout).getByRole('heading', { name: /Unborn child protection plan found/ }),
    ).toBeInTheDocument();
    expect(callout).toHaveTextContent('Unborn child protection plan');
    expect(callout).toHaveTextContent('Due date 14 February 2027.');
    expect(callout).toHaveTextContent("held against the mother's NHS number");
    const note = within(result).getByTestId('unborn-plan-note');
    expect(note).toHaveTextContent('This plan is about the pregnancy.');
    expect(note).toHaveTextContent('booking');
    expect(within(result).getByText('Due date')).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows an ended plan with its end date and an Ended tag', async () => {
    mockLookups(() => planFound({ plans: [ENDED_LAC] }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const callout = await screen.findByTestId('plan-callout');
    expect(callout).toHaveTextContent('Looked after child');
    expect(callout).toHaveTextContent('Ended');
    expect(callout).toHaveTextContent('Started 1 February 2024. Ended 3 March 2026.');
    expect(screen.getByTestId('result-plan-found')).toHaveTextContent('This plan has ended.');
    for (const tag of screen.getAllByTestId('plan-status')) {
      expect(tag).toHaveTextContent('Ended 3 March 2026');
      expect(tag).toHaveClass('nhsuk-tag--grey');
    }
    expect(await axeViolations(container)).toEqual([]);
  });

  it("shows an unborn plan past its due date with Rust's words, never Ended", async () => {
    mockLookups(() => planFound({ patient: MOTHER, plans: [UNBORN_DUE_PASSED] }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-plan-found');
    const tags = within(result).getAllByTestId('plan-status');
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) {
      expect(tag).toHaveTextContent('Due date passed 7 days ago');
      expect(tag).toHaveClass('nhsuk-tag--red');
    }
    expect(within(result).getByTestId('plan-callout')).toHaveTextContent('Due date 20 November 2026.');
    expect(within(result).getByTestId('due-date-passed-note')).toHaveTextContent(
      'The baby may not have been born yet',
    );
    expect(result).not.toHaveTextContent('Ended');
    expect(result).not.toHaveTextContent('This plan has ended.');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows a plan yet to start as starting, never Ended', async () => {
    mockLookups(() => planFound({ plans: [FUTURE_CPP] }));
    render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-plan-found');
    for (const tag of within(result).getAllByTestId('plan-status')) {
      expect(tag).toHaveTextContent('Starts 3 December 2026');
      expect(tag).toHaveClass('nhsuk-tag--red');
    }
    expect(within(result).getByTestId('plan-callout')).toHaveTextContent(
      'Starts 3 December 2026. No end date.',
    );
    expect(result).not.toHaveTextContent('Ended');
    expect(result).not.toHaveTextContent('Started 3 December 2026');
  });

  it('shows no plan calmly, with what it does and does not mean', async () => {
    mockLookups(() => NO_PLAN);
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-no-plan');
    expect(within(result).getByTestId('patient-banner')).toHaveTextContent('TESTCHILD, Jamie');
    expect(result).toHaveTextContent('Checked at 25 November 2026 at 9.31am');
    expect(result).toHaveTextContent(NO_PLAN_WORDING);
    expect(result).toHaveTextContent('This does not mean there are no concerns.');
    expect(result).toHaveTextContent('follow your local safeguarding procedure');
    expect(result).not.toHaveTextContent('did not happen');
    expect(result).not.toHaveTextContent('Child protection information found');
    expect(screen.queryByTestId('result-could-not-check')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows could-not-check as its own state, with what to do and a retry', async () => {
    const calls = mockLookups(() => COULD_NOT_CHECK);
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(
      within(result).getByRole('heading', { name: 'The child protection check did not happen' }),
    ).toBeInTheDocument();
    expect(result).toHaveTextContent('We do not know if this person has a child protection plan.');
    expect(result).toHaveTextContent('The child protection service took too long to answer.');
    expect(result).toHaveTextContent('Follow your local safeguarding procedure.');
    expect(result).toHaveTextContent("phone the local authority's emergency duty team");
    expect(result).toHaveTextContent('Tried at 25 November 2026 at 9.32am');
    expect(result).not.toHaveTextContent(NO_PLAN_WORDING);
    expect(result).not.toHaveTextContent('No plans recorded');
    expect(screen.queryByTestId('result-no-plan')).not.toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);

    await userEvent.click(within(result).getByRole('button', { name: 'Retry the check' }));
    await waitFor(() => {
      expect(callsTo(calls, 'lookup')).toEqual([{ input: '9990000018' }, { input: '9990000018' }]);
    });
    expect(await screen.findByTestId('result-could-not-check')).toBeInTheDocument();
    expect(field()).toHaveFocus();
  });

  it('shows could-not-check when the backend call fails', async () => {
    mockLookups(() => ipcRejection('unexpected', 'Something went wrong in the app.'));
    render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(result).toHaveTextContent('Something went wrong in the app.');
    expect(result).not.toHaveTextContent(NO_PLAN_WORDING);
  });

  it('shows could-not-check for an answer it cannot read, never a crash or no plan', async () => {
    mockLookups(() => ({ lookup_id: 1, view: { outcome: 'no_plan' }, audit_warning: null }));
    render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(result).toHaveTextContent('The app received an answer it could not read.');
    expect(screen.queryByTestId('result-no-plan')).not.toBeInTheDocument();
  });

  it('never shows error text that did not come from an IpcError', async () => {
    mockLookups(() => {
      throw new Error('TESTCHILD 9990000018 exploded');
    });
    render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(result).not.toHaveTextContent('exploded');
    expect(result).toHaveTextContent('The app could not run the check.');
  });

  it('says when the patient is not found, and that the check was not done', async () => {
    mockLookups(() => PATIENT_NOT_FOUND);
    const { container } = render(<LookupPage />);
    await lookUp('9990000034');
    const result = await screen.findByTestId('result-patient-not-found');
    expect(result).toHaveTextContent('No patient found with this NHS number');
    expect(result).toHaveTextContent('999 000 0034');
    expect(result).toHaveTextContent('The child protection check was not done.');
    expect(result).not.toHaveTextContent(NO_PLAN_WORDING);
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows Checking at once and clears the previous result', async () => {
    const second = deferred<LookupResponse>();
    let count = 0;
    mockLookups(() => {
      count += 1;
      return count === 1 ? planFound() : second.promise;
    });
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    await userEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect(screen.getByTestId('checking')).toHaveTextContent('Checking…');
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(screen.queryByText('TESTCHILD, Jamie')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    second.resolve(NO_PLAN);
    expect(await screen.findByTestId('result-no-plan')).toBeInTheDocument();
    expect(screen.queryByTestId('checking')).not.toBeInTheDocument();
  });

  it('says a slow check is still running, then shows the answer', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime.bind(vi) });
    const answer = deferred<LookupResponse>();
    mockLookups(() => answer.promise);
    const { container } = render(<LookupPage />);
    await user.keyboard('9990000018{Enter}');
    expect(screen.getByTestId('checking')).toHaveTextContent('Checking…');
    expect(screen.queryByTestId('checking-slow')).not.toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SLOW_AFTER_MS);
    });
    expect(screen.getByTestId('checking-slow')).toHaveTextContent('taking longer than usual');
    expect(await axeViolations(container)).toEqual([]);
    answer.resolve(NO_PLAN);
    expect(await screen.findByTestId('result-no-plan')).toBeInTheDocument();
    expect(screen.queryByTestId('checking')).not.toBeInTheDocument();
    vi.useRealTimers();
  });

  it('never shows a late answer for an earlier number', async () => {
    const first = deferred<LookupResponse>();
    mockLookups((input) => (input === '9990000018' ? first.promise : NO_PLAN));
    render(<LookupPage />);
    await lookUp('9990000018');
    await userEvent.keyboard('{Escape}9990000026{Enter}');
    expect(await screen.findByTestId('result-no-plan')).toBeInTheDocument();
    first.resolve(planFound());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.getByTestId('result-no-plan')).toBeInTheDocument();
  });

  it('never shows a late answer that arrives after a newer lookup started', async () => {
    const first = deferred<LookupResponse>();
    const second = deferred<LookupResponse>();
    let count = 0;
    mockLookups(() => {
      count += 1;
      return count === 1 ? first.promise : second.promise;
    });
    render(<LookupPage />);
    await lookUp('9990000018');
    // A scanner sends the next number while the first is still being checked.
    await userEvent.clear(field());
    await lookUp('9990000026');
    // The first answer arrives while the second is still running: it is dropped.
    first.resolve(planFound());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.getByTestId('checking')).toBeInTheDocument();
    second.resolve(COULD_NOT_CHECK);
    expect(await screen.findByTestId('result-could-not-check')).toBeInTheDocument();
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
  });

  it('ignores a superseded view and asks to check again', async () => {
    mockLookups(() => SUPERSEDED);
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    expect(await screen.findByTestId('result-not-finished')).toHaveTextContent(
      'Check the NHS number again.',
    );
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(screen.queryByTestId('checking')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('clears the field and the result on Escape', async () => {
    mockLookups(() => planFound());
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    await userEvent.keyboard('{Escape}');
    expect(field()).toHaveValue('');
    expect(field()).toHaveFocus();
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.queryByText('TESTCHILD, Jamie')).not.toBeInTheDocument();
  });

  it('clears on Escape from the Check button too', async () => {
    mockLookups(() => NO_PLAN);
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-no-plan');
    screen.getByRole('button', { name: 'Check' }).focus();
    await userEvent.keyboard('{Escape}');
    expect(field()).toHaveValue('');
    expect(field()).toHaveFocus();
    expect(screen.queryByTestId('result-no-plan')).not.toBeInTheDocument();
  });

  it('clears an invalid-number error on Escape', async () => {
    mockLookups(() => INVALID_NUMBER);
    render(<LookupPage />);
    await lookUp('123');
    await screen.findByRole('alert');
    await userEvent.keyboard('{Escape}');
    expect(field()).toHaveValue('');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('lets a scanned number replace the last one, and clears the old result as it does', async () => {
    const calls = mockLookups((input) => (input === '9990000018' ? planFound() : NO_PLAN));
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    // The last number is selected: the scanner's digits replace it.
    await userEvent.keyboard('9');
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    await lookUp('990000026');
    expect(await screen.findByTestId('result-no-plan')).toBeInTheDocument();
    expect(callsTo(calls, 'lookup')).toEqual([{ input: '9990000018' }, { input: '9990000026' }]);
  });

  it('accepts a pasted number', async () => {
    const calls = mockLookups(() => NO_PLAN);
    render(<LookupPage />);
    await userEvent.paste('999 000 0018');
    await userEvent.keyboard('{Enter}');
    await screen.findByTestId('result-no-plan');
    expect(callsTo(calls, 'lookup')).toEqual([{ input: '999 000 0018' }]);
  });

  it('shows the audit incident banner with the result until it is dismissed', async () => {
    mockLookups((input) =>
      input === '9990000018'
        ? { ...planFound(), audit_warning: 'The audit record could not be saved on this computer.' }
        : NO_PLAN,
    );
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const banner = await screen.findByTestId('audit-warning');
    expect(banner).toHaveTextContent('The audit record could not be saved on this computer.');
    expect(screen.getByTestId('result-plan-found')).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);

    // It stays through the next lookup.
    await userEvent.keyboard('{Escape}9990000026{Enter}');
    await screen.findByTestId('result-no-plan');
    expect(screen.getByTestId('audit-warning')).toBeInTheDocument();

    await userEvent.click(within(banner).getByRole('button', { name: /Dismiss/ }));
    expect(screen.queryByTestId('audit-warning')).not.toBeInTheDocument();
    expect(screen.getByTestId('result-no-plan')).toBeInTheDocument();
  });

  it('still shows the audit incident from an answer that is dropped as stale', async () => {
    const first = deferred<LookupResponse>();
    mockLookups((input) => (input === '9990000018' ? first.promise : NO_PLAN));
    render(<LookupPage />);
    await lookUp('9990000018');
    await userEvent.keyboard('{Escape}9990000026{Enter}');
    await screen.findByTestId('result-no-plan');
    first.resolve({ ...planFound(), audit_warning: 'The audit record could not be saved.' });
    expect(await screen.findByTestId('audit-warning')).toHaveTextContent(
      'The audit record could not be saved.',
    );
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.getByTestId('result-no-plan')).toBeInTheDocument();
  });

  it('asks the app to check the session when a lookup needs sign-in', async () => {
    const onSignInRequired = vi.fn();
    mockLookups(() => ({
      ...COULD_NOT_CHECK,
      view: { ...COULD_NOT_CHECK.view, reason_code: 'sign_in_required', reason: 'You need to sign in again.' },
    }));
    render(<LookupPage onSignInRequired={onSignInRequired} />);
    await lookUp('9990000018');
    await screen.findByTestId('result-could-not-check');
    expect(onSignInRequired).toHaveBeenCalledTimes(1);
  });

  it('tells the status bar after each answer', async () => {
    const onLookupFinished = vi.fn();
    mockLookups(() => NO_PLAN);
    render(<LookupPage onLookupFinished={onLookupFinished} />);
    await lookUp('9990000018');
    await screen.findByTestId('result-no-plan');
    expect(onLookupFinished).toHaveBeenCalledTimes(1);
  });

  it('copies a phone number and says so', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    mockLookups(() => planFound());
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(
      screen.getByRole('button', { name: 'Copy Northshire County Council emergency duty team number' }),
    );
    await waitFor(() => {
      expect(writeText).toHaveBeenCalledWith('01632 960999');
    });
    expect(await screen.findByText('Copied')).toBeInTheDocument();
  });

  it('says when a phone number could not be copied', async () => {
    const writeText = vi.fn(() => Promise.reject(new Error('denied')));
    mockLookups(() => planFound());
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(
      screen.getByRole('button', { name: 'Copy Northshire County Council office hours number' }),
    );
    expect(
      await screen.findByText('Could not copy. Select the number and copy it yourself.'),
    ).toBeInTheDocument();
  });

  it('says a number could not be copied when there is no clipboard at all', async () => {
    mockLookups(() => planFound());
    render(<LookupPage />);
    await lookUp('9990000018');
    await screen.findByTestId('result-plan-found');
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    fireEvent.click(screen.getByRole('button', { name: "Copy social worker's number" }));
    expect(await screen.findByText(/Could not copy/)).toBeInTheDocument();
  });
});

describe('what the demographics service did not record', () => {
  it('says plainly that the name, date of birth and gender were not recorded', async () => {
    mockLookups(() => planFound({ patient: NOT_RECORDED }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000042');
    const banner = await screen.findByTestId('patient-banner');
    expect(banner).toHaveTextContent('Name not recorded');
    expect(banner).toHaveTextContent('Date of birth not recorded');
    expect(banner).toHaveTextContent('Gender not recorded');
    expect(banner).toHaveTextContent('999 000 0042');
    expect(within(banner).getByTestId('not-recorded-warning')).toHaveTextContent(
      'The demographics service has no name, date of birth or gender for this NHS number: confirm who the patient is another way.',
    );
    // The plan is still shown in full.
    expect(screen.getByTestId('plan-callout')).toHaveTextContent('Child protection plan');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says so on no plan too', async () => {
    mockLookups(() => ({ ...NO_PLAN, view: { ...NO_PLAN.view, patient: NOT_RECORDED } }));
    render(<LookupPage />);
    await lookUp('9990000042');
    const banner = await screen.findByTestId('patient-banner');
    expect(within(banner).getByTestId('not-recorded-warning')).toHaveTextContent(
      'confirm who the patient is another way',
    );
  });

  it('shows no notes for a complete record', async () => {
    mockLookups(() => planFound({ patient: CHILD }));
    render(<LookupPage />);
    await lookUp('9990000018');
    const banner = await screen.findByTestId('patient-banner');
    for (const note of ['not-recorded-warning', 'restricted-notice', 'date-of-death', 'date-of-birth-note']) {
      expect(within(banner).queryByTestId(note)).not.toBeInTheDocument();
    }
    expect(banner).not.toHaveTextContent('not recorded');
    expect(banner).not.toHaveTextContent('Died');
  });

  it('shows a partial date of birth as given and says it is partial', async () => {
    mockLookups(() => planFound({ patient: PARTIAL_BIRTH_DATE }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const banner = await screen.findByTestId('patient-banner');
    const born = within(banner).getByText('Born').nextElementSibling;
    expect(born).toHaveTextContent('October 2010 (Partial date: only the month and year are recorded)');
    expect(within(banner).getByTestId('date-of-birth-note')).toHaveTextContent('Partial date');
    expect(within(banner).queryByTestId('not-recorded-warning')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says a restricted record is restricted', async () => {
    mockLookups(() => planFound({ patient: RESTRICTED }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const banner = await screen.findByTestId('patient-banner');
    expect(within(banner).getByTestId('restricted-notice')).toHaveTextContent(
      'This is a restricted record.',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it("shows a deceased patient's date of death", async () => {
    mockLookups(() => planFound({ patient: DECEASED }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const banner = await screen.findByTestId('patient-banner');
    const died = within(banner).getByTestId('date-of-death');
    expect(within(died).getByText('Died').tagName).toBe('DT');
    expect(within(died).getByText('22 October 2010').tagName).toBe('DD');
    expect(await axeViolations(container)).toEqual([]);
  });
});

describe('a record CP-IS holds without every detail', () => {
  it('shows a record whose type could not be read as a found record, with whom to phone', async () => {
    mockLookups(() => planFound({ plans: [TYPE_NOT_READ] }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-plan-found');
    const callout = within(result).getByTestId('plan-callout');
    expect(
      within(callout).getByRole('heading', { name: /Child protection information found/ }),
    ).toBeInTheDocument();
    expect(within(callout).getByRole('list', { name: 'CP-IS has a record for this NHS number' })).toBeInTheDocument();
    expect(callout).toHaveTextContent('CP-IS holds a record; its type could not be read');
    expect(callout).toHaveTextContent('Start date not given. No end date.');
    expect(within(callout).getByTestId('la-phones')).toHaveTextContent('SFD1 - TESTSHIRE CITY COUNCIL');
    const plan = within(result).getByTestId('plan');
    expect(within(plan).getByTestId('type-not-read-note')).toHaveTextContent(
      'CP-IS did not say which kind of plan this is.',
    );
    expect(plan).toHaveTextContent('Start date not given');
    expect(within(callout).getByRole('link', { name: '01632 960201' })).toHaveAttribute(
      'href',
      'tel:+441632960201',
    );
    // The number CP-IS did not give is said to be missing: no empty link, no copy button.
    expect(within(callout).getByTestId('phone-not-given')).toHaveTextContent('Not given by CP-IS');
    expect(within(callout).getAllByRole('link')).toHaveLength(1);
    expect(
      within(result).queryByRole('button', { name: /emergency duty team number/ }),
    ).not.toBeInTheDocument();
    // No ODS code was given, so there is no row for one.
    expect(plan).not.toHaveTextContent('ODS code');
    expect(result).not.toHaveTextContent('did not happen');
    expect(screen.queryByTestId('result-could-not-check')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says both numbers are not given when CP-IS gave neither, with no tel: links', async () => {
    const neither = {
      ...TYPE_NOT_READ,
      local_authority: { ...TYPE_NOT_READ.local_authority, office_hours_phone: null },
    };
    mockLookups(() => planFound({ plans: [neither] }));
    const { container } = render(<LookupPage />);
    await lookUp('9990000018');
    const callout = await screen.findByTestId('plan-callout');
    expect(within(callout).getAllByTestId('phone-not-given')).toHaveLength(2);
    expect(container.querySelectorAll('a[href^="tel:"]')).toHaveLength(0);
  });

  it("shows the local authority's ODS code when CP-IS gave one", async () => {
    mockLookups(() => planFound({ plans: [CPP] }));
    render(<LookupPage />);
    await lookUp('9990000018');
    const plan = await screen.findByTestId('plan');
    expect(plan).toHaveTextContent('Local authority ODS codeZ9N01');
    expect(within(plan).queryByTestId('type-not-read-note')).not.toBeInTheDocument();
    expect(within(plan).queryByTestId('phone-not-given')).not.toBeInTheDocument();
  });
});

describe('the support reference of a check that did not happen', () => {
  it('shows the TraceID and detail code under the reason, and copies them', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    mockLookups(() => COULD_NOT_CHECK_REFUSED);
    const { container } = render(<LookupPage />);
    await lookUp('999 000 0018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(result).toHaveTextContent('Why: The child protection service sent an answer that could not be read.');
    const reference = within(result).getByTestId('support-reference');
    const text = within(reference).getByTestId('support-reference-text');
    expect(text).toHaveTextContent(
      `TraceID ${TRACE_ID}; reason invalid_response; detail care_team/missing_element:CareTeam.name`,
    );
    // No patient data: not the number entered, in any spelling.
    for (const entered of ['999 000 0018', '9990000018']) {
      expect(reference).not.toHaveTextContent(entered);
    }
    expect(await axeViolations(container)).toEqual([]);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(within(reference).getByRole('button', { name: /Copy support reference/ }));
    await waitFor(() => {
      expect(writeText).toHaveBeenCalledWith(
        `TraceID ${TRACE_ID}; reason invalid_response; detail care_team/missing_element:CareTeam.name`,
      );
    });
    expect(await within(reference).findByText('Copied')).toBeInTheDocument();
  });

  it('asks to select the reference when it cannot be copied', async () => {
    mockLookups(() => COULD_NOT_CHECK_REFUSED);
    render(<LookupPage />);
    await lookUp('9990000018');
    const reference = await screen.findByTestId('support-reference');
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    fireEvent.click(within(reference).getByRole('button', { name: /Copy support reference/ }));
    expect(
      await within(reference).findByText(
        'Could not copy. Select the support reference and copy it yourself.',
      ),
    ).toBeInTheDocument();
  });

  it('shows no support reference when nothing was sent', async () => {
    mockLookups(() => COULD_NOT_CHECK);
    render(<LookupPage />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(within(result).queryByTestId('support-reference')).not.toBeInTheDocument();
    expect(result).not.toHaveTextContent('support reference');
  });
});

describe("the trust's own words on the results", () => {
  /** The trust's in-hours and out-of-hours numbers are each a tel: link and a copy button. */
  function expectSafeguardingNumbers(element: HTMLElement) {
    const within_ = within(element);
    expect(
      within(within_.getByTestId('trust-safeguarding'))
        .getAllByRole('term')
        .map((term) => term.textContent),
    ).toEqual(['In hours', 'Out of hours']);
    expect(within_.getByRole('link', { name: '0114 496 0123' })).toHaveAttribute(
      'href',
      'tel:+441144960123',
    );
    expect(within_.getByRole('link', { name: '0114 496 0999' })).toHaveAttribute(
      'href',
      'tel:+441144960999',
    );
    expect(
      within_.getByRole('button', { name: 'Copy safeguarding team in-hours number' }),
    ).toBeInTheDocument();
    expect(
      within_.getByRole('button', { name: 'Copy safeguarding team out-of-hours number' }),
    ).toBeInTheDocument();
    expect(within_.getByText('Monday to Friday, 9am to 5pm')).toBeInTheDocument();
  }

  it("shows the trust's downtime procedure and safeguarding numbers on could-not-check", async () => {
    mockLookups(() => COULD_NOT_CHECK);
    const { container } = render(<LookupPage trust={TRUST_CONTACTS} />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    const inResult = within(result);
    expect(inResult.getByRole('heading', { name: 'Your local downtime procedure' })).toBeInTheDocument();
    const procedure = inResult.getByTestId('trust-downtime-procedure');
    expect(
      within(procedure)
        .getAllByText(/./, { selector: 'p' })
        .map((paragraph) => paragraph.textContent),
    ).toEqual(TRUST_CONTACTS.downtime_procedure);
    expect(result).toHaveTextContent('Follow your local downtime procedure, below.');
    expect(result).toHaveTextContent(
      "If you have concerns, phone your safeguarding team or the local authority's emergency duty team.",
    );
    expect(inResult.getByRole('heading', { name: 'Your safeguarding team' })).toBeInTheDocument();
    expectSafeguardingNumbers(result);
    // Still could-not-check, never no plan, and the retry is still there.
    expect(result).not.toHaveTextContent(NO_PLAN_WORDING);
    expect(inResult.getByRole('button', { name: 'Retry the check' })).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it("shows the trust's contacts when the check failed in the app itself", async () => {
    mockLookups(() => ipcRejection('unexpected', 'Something went wrong in the app.'));
    render(<LookupPage trust={TRUST_CONTACTS} />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(within(result).getByTestId('trust-downtime-procedure')).toBeInTheDocument();
    expectSafeguardingNumbers(result);
  });

  it('copies the safeguarding team number as shown', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    mockLookups(() => COULD_NOT_CHECK);
    render(<LookupPage trust={TRUST_CONTACTS} />);
    await lookUp('9990000018');
    await screen.findByTestId('result-could-not-check');
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(screen.getByRole('button', { name: 'Copy safeguarding team out-of-hours number' }));
    await waitFor(() => {
      expect(writeText).toHaveBeenCalledWith('0114 496 0999');
    });
    expect(await screen.findByText('Copied')).toBeInTheDocument();
  });

  it('shows only the built-in words on could-not-check when the trust set nothing', async () => {
    mockLookups(() => COULD_NOT_CHECK);
    const { container } = render(<LookupPage trust={NO_TRUST_CONTACTS} />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    const inResult = within(result);
    expect(inResult.getAllByRole('heading').map((heading) => heading.textContent)).toEqual([
      'The child protection check did not happen',
      'What to do now',
    ]);
    expect(inResult.queryByRole('link')).not.toBeInTheDocument();
    expect(inResult.queryByTestId('trust-downtime-procedure')).not.toBeInTheDocument();
    expect(inResult.queryByTestId('trust-safeguarding')).not.toBeInTheDocument();
    expect(result).toHaveTextContent('Follow your local safeguarding procedure.');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows a downtime procedure alone, with no empty safeguarding heading', async () => {
    mockLookups(() => COULD_NOT_CHECK);
    render(<LookupPage trust={{ ...NO_TRUST_CONTACTS, downtime_procedure: ['Use the paper checklist.'] }} />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-could-not-check');
    expect(within(result).getByTestId('trust-downtime-procedure')).toHaveTextContent(
      'Use the paper checklist.',
    );
    expect(
      within(result).queryByRole('heading', { name: 'Your safeguarding team' }),
    ).not.toBeInTheDocument();
    expect(result).toHaveTextContent("phone the local authority's emergency duty team");
  });

  it("shows the safeguarding numbers under If you have concerns on no plan", async () => {
    mockLookups(() => NO_PLAN);
    const { container } = render(<LookupPage trust={TRUST_CONTACTS} />);
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-no-plan');
    const concerns = within(result).getByRole('region', { name: 'If you have concerns' });
    expect(
      within(concerns).getByRole('heading', { level: 2, name: 'If you have concerns' }),
    ).toBeInTheDocument();
    expect(concerns).toHaveTextContent('Phone your safeguarding team.');
    expectSafeguardingNumbers(concerns);
    // The downtime procedure is for when the check does not work: not here.
    expect(within(result).queryByTestId('trust-downtime-procedure')).not.toBeInTheDocument();
    expect(result).toHaveTextContent(NO_PLAN_WORDING);
    expect(result).not.toHaveTextContent('did not happen');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows nothing extra on no plan when the trust set no numbers', async () => {
    mockLookups(() => NO_PLAN);
    const { container } = render(
      <LookupPage trust={{ ...NO_TRUST_CONTACTS, downtime_procedure: ['Use the paper checklist.'] }} />,
    );
    await lookUp('9990000018');
    const result = await screen.findByTestId('result-no-plan');
    expect(
      within(result).queryByRole('heading', { name: 'If you have concerns' }),
    ).not.toBeInTheDocument();
    expect(within(result).queryByRole('link')).not.toBeInTheDocument();
    expect(result).not.toHaveTextContent('Use the paper checklist.');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows the one number the trust set, and no hours without the in-hours number', async () => {
    mockLookups(() => NO_PLAN);
    render(
      <LookupPage
        trust={{
          ...TRUST_CONTACTS,
          safeguarding_in_hours: null,
        }}
      />,
    );
    await lookUp('9990000018');
    const concerns = await screen.findByRole('region', { name: 'If you have concerns' });
    expect(within(concerns).getAllByRole('link').map((link) => link.textContent)).toEqual([
      '0114 496 0999',
    ]);
    expect(within(concerns).getAllByRole('term').map((term) => term.textContent)).toEqual([
      'Out of hours',
    ]);
    expect(concerns).not.toHaveTextContent('Monday to Friday');
  });

  it('dials the number Rust gives, and shows and copies it as the trust wrote it', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    mockLookups(() => NO_PLAN);
    render(
      <LookupPage
        trust={{
          ...TRUST_CONTACTS,
          safeguarding_in_hours: { display: '+44 (0)114 496 0123', tel: 'tel:+441144960123', extension: null },
        }}
      />,
    );
    await lookUp('9990000018');
    expect(await screen.findByRole('link', { name: '+44 (0)114 496 0123' })).toHaveAttribute(
      'href',
      'tel:+441144960123',
    );
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(screen.getByRole('button', { name: 'Copy safeguarding team in-hours number' }));
    await waitFor(() => {
      expect(writeText).toHaveBeenCalledWith('+44 (0)114 496 0123');
    });
  });

  it('shows the safeguarding numbers when the patient is not found, as the check was not done', async () => {
    mockLookups(() => PATIENT_NOT_FOUND);
    const { container } = render(<LookupPage trust={TRUST_CONTACTS} />);
    await lookUp('9990000034');
    const result = await screen.findByTestId('result-patient-not-found');
    const concerns = within(result).getByRole('region', { name: 'If you have concerns' });
    expectSafeguardingNumbers(concerns);
    expect(within(result).queryByTestId('trust-downtime-procedure')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows nothing extra when the patient is not found and the trust set nothing', async () => {
    mockLookups(() => PATIENT_NOT_FOUND);
    render(<LookupPage trust={NO_TRUST_CONTACTS} />);
    await lookUp('9990000034');
    const result = await screen.findByTestId('result-patient-not-found');
    expect(within(result).queryByRole('region')).not.toBeInTheDocument();
    expect(within(result).queryByRole('link')).not.toBeInTheDocument();
  });
});
