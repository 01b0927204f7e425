// The app frame: sign-in, sign-out, the lock screen, roles without permission and the
// inactivity lock, which clears every piece of patient data at once.
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import type { SessionView } from './backend';
import type { ReviewView } from './backend/review';
import { axeViolations } from './test/axe';
import {
  LOCKED,
  NURSE,
  NO_PLAN,
  RECEPTIONIST,
  SIGNED_IN,
  SIGNED_OUT,
  COULD_NOT_CHECK,
  NOT_SET_UP,
  TRUST_SETTINGS,
  planFound,
  uiSettingsView,
} from './test/fixtures';
import { callsTo, deferred, mockBackend, ipcRejection } from './test/ipc';

afterEach(() => {
  vi.useRealTimers();
});

describe('App', () => {
  it('shows the start screen with a Sign in button when nobody is signed in', async () => {
    mockBackend({ session_state: () => SIGNED_OUT });
    const { container } = render(<App />);
    const start = await screen.findByTestId('start-screen');
    expect(within(start).getByRole('heading', { level: 1 })).toHaveTextContent(
      'Check child protection information',
    );
    expect(start).toHaveTextContent('child protection plan or is looked after');
    expect(screen.getByTestId('sign-in-button')).toHaveAccessibleName('Sign in');
    expect(screen.queryByRole('textbox', { name: /NHS number/ })).not.toBeInTheDocument();
    expect(screen.getByTestId('status-user')).toHaveTextContent('Not signed in');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('signs in, waits for the browser, then shows who is signed in', async () => {
    const answer = deferred<SessionView>();
    const calls = mockBackend({ session_state: () => SIGNED_OUT, sign_in: () => answer.promise });
    const { container } = render(<App />);
    await userEvent.click(await screen.findByTestId('sign-in-button'));
    const waiting = screen.getByTestId('sign-in-waiting');
    expect(waiting).toHaveTextContent('Waiting for you to sign in…');
    expect(within(waiting).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    expect(await axeViolations(container)).toEqual([]);
    expect(callsTo(calls, 'sign_in')).toHaveLength(1);

    answer.resolve(SIGNED_IN);
    const account = await screen.findByRole('navigation', { name: 'Your account' });
    expect(account).toHaveTextContent('Alex Testnurse');
    expect(account).toHaveTextContent('Registered Nurse');
    expect(account).toHaveTextContent('Testshire General Hospital');
    expect(within(account).getByRole('button', { name: 'Sign out' })).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: /NHS number/ })).toHaveFocus();
    expect(screen.getByTestId('status-user')).toHaveTextContent(
      'Signed in: Alex Testnurse, Registered Nurse',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it('goes back to the start screen on Cancel and ignores the late sign-in', async () => {
    const answer = deferred<SessionView>();
    mockBackend({ session_state: () => SIGNED_OUT, sign_in: () => answer.promise });
    render(<App />);
    await userEvent.click(await screen.findByTestId('sign-in-button'));
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByTestId('sign-in-button')).toBeInTheDocument();
    expect(screen.queryByTestId('sign-in-waiting')).not.toBeInTheDocument();
    answer.resolve(SIGNED_IN);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.getByTestId('start-screen')).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: /NHS number/ })).not.toBeInTheDocument();
  });

  it('says clearly when sign-in fails', async () => {
    mockBackend({
      session_state: () => SIGNED_OUT,
      sign_in: () => ipcRejection('sign_in_cancelled', 'Sign-in was cancelled in the browser.'),
    });
    const { container } = render(<App />);
    await userEvent.click(await screen.findByTestId('sign-in-button'));
    const error = await screen.findByTestId('sign-in-error');
    expect(error).toHaveTextContent('Sign-in did not work');
    expect(error).toHaveTextContent('Sign-in was cancelled in the browser.');
    expect(screen.getByTestId('sign-in-button')).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows the lock screen with no patient data and asks to sign in again', async () => {
    mockBackend({ session_state: () => LOCKED });
    const { container } = render(<App />);
    const lockScreen = await screen.findByTestId('lock-screen');
    expect(lockScreen).toHaveTextContent('Sign in again to continue.');
    expect(within(lockScreen).getByTestId('sign-in-button')).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: /NHS number/ })).not.toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('names the organisation by its ODS code when the name is not known', async () => {
    mockBackend({
      session_state: () => ({ state: 'signed_in', user: { ...NURSE, organisation_name: '' } }),
    });
    render(<App />);
    expect(await screen.findByTestId('account-organisation')).toHaveTextContent(
      'Organisation RXX01',
    );
  });

  it('tells a user whose role cannot look up why, and shows no lookup field', async () => {
    mockBackend({ session_state: () => ({ state: 'signed_in', user: RECEPTIONIST }) });
    const { container } = render(<App />);
    const page = await screen.findByTestId('no-permission');
    expect(page).toHaveTextContent('You cannot check child protection information');
    expect(page).toHaveTextContent('Your selected role does not allow child protection lookups.');
    expect(page).toHaveTextContent('You are signed in as Receptionist.');
    expect(screen.queryByRole('textbox', { name: /NHS number/ })).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('signs out, clearing the patient at once, before Rust answers', async () => {
    const answer = deferred<SessionView>();
    const calls = mockBackend({ lookup: () => planFound(), sign_out: () => answer.promise });
    render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await userEvent.type(field, '9990000018{Enter}');
    await screen.findByTestId('result-plan-found');
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByTestId('start-screen')).toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent('TESTCHILD');
    expect(callsTo(calls, 'sign_out')).toHaveLength(1);
    answer.resolve(SIGNED_OUT);
    await waitFor(() => {
      expect(screen.getByTestId('start-screen')).toBeInTheDocument();
    });
  });

  it('says so when signing out fails', async () => {
    mockBackend({ sign_out: () => ipcRejection('keyring_unavailable', 'x') });
    render(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByTestId('start-notice')).toHaveTextContent(
      'Signing out did not finish.',
    );
  });

  it('starts signed out with a notice when the session cannot be read', async () => {
    mockBackend({ session_state: () => ipcRejection('unexpected', 'x') });
    render(<App />);
    expect(await screen.findByTestId('start-notice')).toHaveTextContent(
      'The app could not tell if you are signed in.',
    );
    expect(screen.getByTestId('sign-in-button')).toBeInTheDocument();
  });

  it('shows the start screen when a lookup finds the session has ended', async () => {
    let session: SessionView = SIGNED_IN;
    mockBackend({
      session_state: () => session,
      lookup: () => {
        session = SIGNED_OUT;
        return {
          ...COULD_NOT_CHECK,
          view: { ...COULD_NOT_CHECK.view, reason_code: 'sign_in_required', reason: 'You need to sign in again.' },
        };
      },
    });
    render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await userEvent.type(field, '9990000018{Enter}');
    expect(await screen.findByTestId('start-screen')).toBeInTheDocument();
  });

  it('refreshes the status bar after a lookup', async () => {
    const calls = mockBackend({ lookup: () => NO_PLAN });
    render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await waitFor(() => {
      expect(callsTo(calls, 'status').length).toBeGreaterThan(0);
    });
    const before = callsTo(calls, 'status').length;
    await userEvent.type(field, '9990000018{Enter}');
    await screen.findByTestId('result-no-plan');
    await waitFor(() => {
      expect(callsTo(calls, 'status').length).toBeGreaterThan(before);
    });
  });
});

describe('setup', () => {
  it('shows the setup page when the app is not set up, and calls nothing else', async () => {
    const calls = mockBackend({ setup_problem: () => NOT_SET_UP });
    const { container } = render(<App />);
    const page = await screen.findByTestId('setup-page');
    expect(
      within(page).getByRole('heading', {
        level: 1,
        name: 'CP-IS Viewer is not set up on this computer',
      }),
    ).toBeInTheDocument();
    const problems = within(page).getByTestId('setup-problems');
    expect(within(problems).getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      'The setting services.cpis_url is missing.',
      'The setting oidc.issuer is missing.',
    ]);
    expect(page).toHaveTextContent('Contact your IT service desk.');
    expect(page).toHaveTextContent('follow your local safeguarding procedure');
    expect(within(page).getByTestId('setup-machine-file')).toHaveTextContent(
      '/etc/cpis-viewer/config.toml',
    );
    expect(within(page).getByTestId('setup-user-file')).toHaveTextContent(
      '/home/testuser/.config/cpis-viewer/config.toml',
    );
    expect(screen.queryByRole('button', { name: 'Sign in' })).not.toBeInTheDocument();
    expect(screen.queryByTestId('sign-in-button')).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
    expect(screen.queryByTestId('status-bar')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    // Nothing else is asked of a core that does not work, now or later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls.map((call) => call.command)).toEqual(['setup_problem']);
  });

  it('says the settings are not complete when Rust names no problem, and shows no user file', async () => {
    mockBackend({
      setup_problem: () => ({ ...NOT_SET_UP, problems: [], user_file: null }),
    });
    const { container } = render(<App />);
    const page = await screen.findByTestId('setup-page');
    expect(within(page).getByTestId('setup-problems')).toHaveTextContent(
      "The app's settings are not complete.",
    );
    expect(within(page).queryByTestId('setup-user-file')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('stops with "could not start" when it cannot tell whether it is set up', async () => {
    for (const answer of [
      () => ipcRejection('unexpected', 'Something went wrong in the app.'),
      () => ({ problems: 'none', machine_file: '/etc/cpis-viewer/config.toml', user_file: null }),
    ]) {
      const calls = mockBackend({ setup_problem: answer });
      const { container, unmount } = render(<App />);
      const page = await screen.findByTestId('startup-failed');
      expect(
        within(page).getByRole('heading', { level: 1, name: 'CP-IS Viewer could not start' }),
      ).toBeInTheDocument();
      expect(page).toHaveTextContent('Contact your IT service desk.');
      expect(screen.queryByTestId('sign-in-button')).not.toBeInTheDocument();
      expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
      expect(await axeViolations(container)).toEqual([]);
      expect(calls.map((call) => call.command)).toEqual(['setup_problem']);
      unmount();
    }
  });

  it('asks whether it is set up before anything else, then goes on as usual', async () => {
    const calls = mockBackend();
    render(<App />);
    await screen.findByRole('textbox', { name: /NHS number/ });
    expect(calls[0]?.command).toBe('setup_problem');
    expect(screen.queryByTestId('setup-page')).not.toBeInTheDocument();
  });
});

describe("the trust's settings", () => {
  it("names the organisation with the trust's display name when it set one", async () => {
    mockBackend({ ui_settings: () => TRUST_SETTINGS });
    const { container } = render(<App />);
    const account = await screen.findByRole('navigation', { name: 'Your account' });
    await waitFor(() => {
      expect(within(account).getByTestId('account-organisation')).toHaveTextContent(
        'Testshire Hospitals NHS Foundation Trust',
      );
    });
    expect(account).not.toHaveTextContent('Testshire General Hospital');
    expect(await axeViolations(container)).toEqual([]);
  });

  it("names the role's organisation when the trust set no display name", async () => {
    const calls = mockBackend();
    render(<App />);
    await waitFor(() => {
      expect(callsTo(calls, 'ui_settings')).toHaveLength(1);
    });
    expect(await screen.findByTestId('account-organisation')).toHaveTextContent(
      'Testshire General Hospital',
    );
  });

  it("gives the trust's contacts to the results", async () => {
    const calls = mockBackend({ ui_settings: () => TRUST_SETTINGS, lookup: () => COULD_NOT_CHECK });
    const { container } = render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await waitFor(() => {
      expect(callsTo(calls, 'ui_settings')).toHaveLength(1);
    });
    await userEvent.type(field, '9990000018{Enter}');
    const result = await screen.findByTestId('result-could-not-check');
    expect(
      within(result).getByRole('heading', { name: 'Your local downtime procedure' }),
    ).toBeInTheDocument();
    expect(within(result).getByRole('link', { name: '0114 496 0999' })).toHaveAttribute(
      'href',
      'tel:+441144960999',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it('keeps the defaults when the settings cannot be read', async () => {
    const calls = mockBackend({
      ui_settings: () => ({ ...TRUST_SETTINGS, trust: { ...TRUST_SETTINGS.trust, downtime_procedure: 'x' } }),
      lookup: () => COULD_NOT_CHECK,
    });
    render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await waitFor(() => {
      expect(callsTo(calls, 'ui_settings')).toHaveLength(1);
    });
    await userEvent.type(field, '9990000018{Enter}');
    const result = await screen.findByTestId('result-could-not-check');
    expect(within(result).queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByTestId('account-organisation')).toHaveTextContent(
      'Testshire General Hospital',
    );
  });
});

describe('named nurse review', () => {
  const NAMED_NURSE = { ...NURSE, name: 'Nia Named-Test', can_review: true };
  const REVIEW: ReviewView = {
    period: 'last24_hours',
    organisation_ods: 'RXX01',
    organisation_name: 'Testshire General Hospital',
    generated_at: '25 November 2026 at 10am',
    incomplete: null,
    rows: [
      {
        viewed_at: '25 November 2026 at 9.30am',
        viewed_at_iso: '2026-11-25T09:30:00Z',
        viewer_name: 'Alex Testnurse',
        viewer_role: 'Registered Nurse',
        nhs_number: '999 000 0018',
        unscheduled: true,
        la_contacted: false,
        la_contact: null,
        plans: null,
      },
    ],
  };

  it('lets a named nurse switch between lookup and review from the header', async () => {
    mockBackend({
      session_state: () => ({ state: 'signed_in', user: NAMED_NURSE }),
      review: () => REVIEW,
    });
    const { container } = render(<App />);
    await screen.findByRole('textbox', { name: /NHS number/ });
    const pages = screen.getByRole('navigation', { name: 'Pages' });
    expect(within(pages).getByRole('link', { name: 'Check a patient' })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await userEvent.click(
      within(pages).getByRole('link', { name: 'Recent alerts at your organisation' }),
    );
    expect(await screen.findByTestId('review-page')).toBeInTheDocument();
    expect(await screen.findByText('999 000 0018')).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'NHS number' })).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    await userEvent.click(within(pages).getByRole('link', { name: 'Check a patient' }));
    expect(await screen.findByRole('textbox', { name: /NHS number/ })).toBeInTheDocument();
  });

  it('shows the review straight away to a role that may review but not look up', async () => {
    mockBackend({
      session_state: () => ({
        state: 'signed_in',
        user: { ...NAMED_NURSE, can_look_up: false, cannot_look_up_reason: 'No lookups.' },
      }),
      review: () => REVIEW,
    });
    render(<App />);
    expect(await screen.findByTestId('review-page')).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Pages' })).not.toBeInTheDocument();
    expect(screen.queryByTestId('no-permission')).not.toBeInTheDocument();
  });

  it('offers no review to a nurse whose role does not allow it', async () => {
    mockBackend();
    render(<App />);
    await screen.findByRole('textbox', { name: /NHS number/ });
    expect(screen.queryByRole('navigation', { name: 'Pages' })).not.toBeInTheDocument();
  });

  it('clears the review on sign-out and opens on the lookup page next time', async () => {
    mockBackend({
      session_state: () => ({ state: 'signed_in', user: NAMED_NURSE }),
      review: () => REVIEW,
      sign_out: () => SIGNED_OUT,
      sign_in: () => ({ state: 'signed_in', user: NAMED_NURSE }),
    });
    render(<App />);
    await userEvent.click(await screen.findByTestId('nav-review'));
    await screen.findByText('999 000 0018');
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByTestId('start-screen')).toBeInTheDocument();
    expect(document.body).not.toHaveTextContent('999 000 0018');
    await userEvent.click(screen.getByTestId('sign-in-button'));
    expect(await screen.findByRole('textbox', { name: /NHS number/ })).toBeInTheDocument();
    expect(screen.queryByTestId('review-page')).not.toBeInTheDocument();
  });
});

describe('inactivity lock', () => {
  async function signedInWithPlan(lockAnswer: Promise<SessionView>) {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime.bind(vi) });
    const calls = mockBackend({
      ui_settings: () => uiSettingsView({ lock_minutes: 2 }),
      lookup: () => planFound(),
      lock: () => lockAnswer,
    });
    render(<App />);
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    await waitFor(() => {
      expect(callsTo(calls, 'ui_settings')).toHaveLength(1);
    });
    await user.type(field, '9990000018{Enter}');
    await screen.findByTestId('result-plan-found');
    return { calls, user };
  }

  it('locks after the configured minutes and clears patient data before Rust answers', async () => {
    const answer = deferred<SessionView>();
    const { calls } = await signedInWithPlan(answer.promise);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2 * 60_000 + 100);
    });
    expect(callsTo(calls, 'lock')).toHaveLength(1);
    // Rust has not answered yet, and the patient is already gone.
    const lockScreen = screen.getByTestId('lock-screen');
    expect(lockScreen).toBeInTheDocument();
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: /NHS number/ })).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent('TESTCHILD');
    expect(document.body).not.toHaveTextContent('999 000 0018');
    expect(document.body).not.toHaveTextContent('Northshire');
    expect(screen.queryByRole('navigation', { name: 'Your account' })).not.toBeInTheDocument();
    answer.resolve(LOCKED);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByTestId('lock-screen')).toBeInTheDocument();
    expect(await axeViolations(document.body)).toEqual([]);
  });

  it('does not lock while the user is active', async () => {
    const { calls, user } = await signedInWithPlan(Promise.resolve(LOCKED));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(90_000);
    });
    await user.keyboard('{Shift}');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(90_000);
    });
    expect(callsTo(calls, 'lock')).toHaveLength(0);
    expect(screen.getByTestId('result-plan-found')).toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(31_000);
    });
    expect(callsTo(calls, 'lock')).toHaveLength(1);
    expect(screen.getByTestId('lock-screen')).toBeInTheDocument();
  });

  it('still locks after 15 minutes when the setting is zero or cannot be read', async () => {
    for (const settings of [
      () => uiSettingsView({ lock_minutes: 0 }),
      () => ipcRejection('unexpected', 'x'),
      () => ({ lock_minutes: 5 }),
    ]) {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      const calls = mockBackend({ ui_settings: settings, lock: () => LOCKED });
      const { unmount } = render(<App />);
      await screen.findByRole('textbox', { name: /NHS number/ });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(14 * 60_000);
      });
      expect(callsTo(calls, 'lock')).toHaveLength(0);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(60_000 + 100);
      });
      expect(callsTo(calls, 'lock')).toHaveLength(1);
      expect(screen.getByTestId('lock-screen')).toBeInTheDocument();
      unmount();
      vi.useRealTimers();
    }
  });

  it('reports input to Rust while signed in, at most every 30 seconds', async () => {
    const { calls, user } = await signedInWithPlan(Promise.resolve(LOCKED));
    const reported = callsTo(calls, 'report_activity').length;
    expect(reported).toBeGreaterThan(0);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(31_000);
    });
    await user.keyboard('{Shift}');
    await user.keyboard('{Shift}');
    expect(callsTo(calls, 'report_activity').length).toBe(reported + 1);
  });

  it('shows the lock screen, dropping the patient, when Rust refuses a command as locked', async () => {
    const { user } = await signedInWithPlan(Promise.resolve(LOCKED));
    // Rust's own lock: the session was idle past the limit (the UI timer missed it).
    mockBackend({
      ui_settings: () => uiSettingsView({ lock_minutes: 2 }),
      lookup: () => ipcRejection('locked', 'CP-IS Viewer locked because nobody used it for a while.'),
      session_state: () => LOCKED,
    });
    const field = screen.getByRole('textbox', { name: /NHS number/ });
    await user.clear(field);
    await user.type(field, '9990000018{Enter}');
    expect(await screen.findByTestId('lock-screen')).toBeInTheDocument();
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent('TESTCHILD');
  });

  it('shows the lock screen when Rust refuses the activity report as locked', async () => {
    const { user } = await signedInWithPlan(Promise.resolve(LOCKED));
    mockBackend({
      report_activity: () => ipcRejection('locked', 'CP-IS Viewer locked because nobody used it for a while.'),
      session_state: () => LOCKED,
    });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(31_000);
    });
    await user.keyboard('{Shift}');
    expect(await screen.findByTestId('lock-screen')).toBeInTheDocument();
    expect(screen.queryByTestId('result-plan-found')).not.toBeInTheDocument();
  });

  it('signs in again from the lock screen to an empty lookup page', async () => {
    const { user } = await signedInWithPlan(Promise.resolve(LOCKED));
    mockBackend({ sign_in: () => SIGNED_IN, session_state: () => LOCKED });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2 * 60_000 + 100);
    });
    await user.click(screen.getByTestId('sign-in-button'));
    const field = await screen.findByRole('textbox', { name: /NHS number/ });
    expect(field).toHaveValue('');
    expect(screen.queryByTestId('patient-banner')).not.toBeInTheDocument();
  });
});
