// Recording that the local authority was contacted: validation, the call Rust gets, and failures.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { axeViolations } from '../test/axe';
import { callsTo, deferred, mockBackend, ipcRejection } from '../test/ipc';
import { LaContactForm, isLaterToday, normaliseTime } from './LaContactForm';

describe('normaliseTime', () => {
  it('accepts 24-hour times and rejects anything else', () => {
    expect(normaliseTime('14:30')).toBe('14:30');
    expect(normaliseTime(' 9:05 ')).toBe('09:05');
    expect(normaliseTime('09.05')).toBe('09:05');
    expect(normaliseTime('00:00')).toBe('00:00');
    expect(normaliseTime('24:00')).toBeNull();
    expect(normaliseTime('12:60')).toBeNull();
    expect(normaliseTime('2.30pm')).toBeNull();
    expect(normaliseTime('1430')).toBeNull();
  });
});

describe('isLaterToday', () => {
  it('compares a time today with the clock', () => {
    // 25 November 2026, 14:30 GMT.
    const now = new Date(Date.UTC(2026, 10, 25, 14, 30));
    expect(isLaterToday('14:30', now)).toBe(false);
    expect(isLaterToday('09:05', now)).toBe(false);
    expect(isLaterToday('14:31', now)).toBe(true);
    expect(isLaterToday('23:59', now)).toBe(true);
  });

  it('reads the UK clock in summer time, whatever the computer is set to', () => {
    // 1 July 2026, 09:00 UTC is 10:00 BST: a contact at 09:45 was 15 minutes ago.
    const now = new Date(Date.UTC(2026, 6, 1, 9, 0));
    expect(isLaterToday('09:45', now)).toBe(false);
    expect(isLaterToday('10:00', now)).toBe(false);
    expect(isLaterToday('10:01', now)).toBe(true);
    // The day the clocks go forward: 01:20 UTC is 02:20 BST.
    expect(isLaterToday('02:15', new Date(Date.UTC(2026, 2, 29, 1, 20)))).toBe(false);
  });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LaContactForm', () => {
  it('has no accessibility violations', async () => {
    mockBackend();
    const { container } = render(<LaContactForm lookupId={7} hasSocialWorker />);
    expect(screen.getByRole('group', { name: 'How did you contact them?' })).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: 'Phoned the social worker' })).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('offers the social worker only when one is shared', () => {
    mockBackend();
    render(<LaContactForm lookupId={7} hasSocialWorker={false} />);
    expect(screen.queryByRole('radio', { name: 'Phoned the social worker' })).not.toBeInTheDocument();
    expect(screen.getAllByRole('radio')).toHaveLength(3);
  });

  it('asks how the local authority was contacted before sending anything', async () => {
    const calls = mockBackend({ record_la_contact: () => null });
    const { container } = render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    const summary = await screen.findByRole('alert');
    expect(summary).toHaveTextContent('There is a problem');
    expect(
      within(summary).getByRole('link', { name: 'Select how you contacted the local authority' }),
    ).toHaveAttribute('href', '#la-contact-method-1');
    expect(callsTo(calls, 'record_la_contact')).toEqual([]);
    expect(await axeViolations(container)).toEqual([]);
  });

  it('rejects a time that is not HH:MM', async () => {
    const calls = mockBackend({ record_la_contact: () => null });
    render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the emergency duty team' }));
    await userEvent.type(screen.getByRole('textbox', { name: /Time of contact/ }), 'half two');
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(
      await screen.findByRole('link', { name: 'Enter the time as hours and minutes, for example 14:30' }),
    ).toHaveAttribute('href', '#la-contact-time');
    expect(screen.getByRole('textbox', { name: /Time of contact/ })).toHaveAccessibleDescription(
      /Enter the time as hours and minutes/,
    );
    expect(callsTo(calls, 'record_la_contact')).toEqual([]);
  });

  it('rejects a time later than now', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['Date'] });
    vi.setSystemTime(new Date(2026, 10, 25, 9, 0));
    const calls = mockBackend({ record_la_contact: () => null });
    render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the office hours number' }));
    await userEvent.type(screen.getByRole('textbox', { name: /Time of contact/ }), '10:15');
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(
      await screen.findByRole('link', { name: 'The time of contact must be now or earlier today' }),
    ).toHaveAttribute('href', '#la-contact-time');
    expect(callsTo(calls, 'record_la_contact')).toEqual([]);
  });

  it('records the contact with the lookup id, method and time, and confirms it', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['Date'] });
    vi.setSystemTime(new Date(2026, 10, 25, 9, 30));
    const calls = mockBackend({ record_la_contact: () => null });
    const { container } = render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the emergency duty team' }));
    await userEvent.type(screen.getByRole('textbox', { name: /Time of contact/ }), '9:05');
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(await screen.findByText('Contact recorded.')).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(
      'Contact recorded. Phoned the emergency duty team at 09:05.',
    );
    expect(screen.getByTestId('la-contact-recorded')).toHaveFocus();
    expect(callsTo(calls, 'record_la_contact')).toEqual([
      { request: { lookup_id: 7, method: 'phone_emergency_duty_team', contacted_at: '09:05' } },
    ]);
    expect(await axeViolations(container)).toEqual([]);

    // A second contact, such as the social worker after the duty team.
    await userEvent.click(screen.getByRole('button', { name: 'Record another contact' }));
    expect(screen.getByRole('radio', { name: 'Phoned the social worker' })).not.toBeChecked();
    expect(screen.getByRole('textbox', { name: /Time of contact/ })).toHaveValue('');
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the social worker' }));
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(await screen.findByText('Contact recorded.')).toBeInTheDocument();
    expect(callsTo(calls, 'record_la_contact')).toHaveLength(2);
  });

  it('sends no time when the field is blank, so Rust uses the time of recording', async () => {
    const calls = mockBackend({ record_la_contact: () => null });
    render(<LaContactForm lookupId={12} hasSocialWorker={false} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the office hours number' }));
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    await screen.findByText('Contact recorded.');
    expect(callsTo(calls, 'record_la_contact')).toEqual([
      { request: { lookup_id: 12, method: 'phone_office_hours', contacted_at: null } },
    ]);
  });

  it('shows a failure and lets the user try again', async () => {
    let attempts = 0;
    const calls = mockBackend({
      record_la_contact: () => {
        attempts += 1;
        return attempts === 1
          ? ipcRejection('audit_failed', 'The record could not be saved.')
          : null;
      },
    });
    const { container } = render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('radio', { name: 'Sent a secure email' }));
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    const failure = await screen.findByRole('alert');
    expect(failure).toHaveTextContent('The contact was not recorded. The record could not be saved. Try again.');
    expect(await axeViolations(container)).toEqual([]);
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(await screen.findByText('Contact recorded.')).toBeInTheDocument();
    expect(callsTo(calls, 'record_la_contact')).toHaveLength(2);
  });

  it('says it is recording while the call runs', async () => {
    const answer = deferred<null>();
    mockBackend({ record_la_contact: () => answer.promise });
    render(<LaContactForm lookupId={7} hasSocialWorker />);
    await userEvent.click(screen.getByRole('radio', { name: 'Phoned the office hours number' }));
    await userEvent.click(screen.getByRole('button', { name: 'Record contact' }));
    expect(screen.getByRole('button', { name: 'Recording…' })).toBeDisabled();
    answer.resolve(null);
    await waitFor(() => {
      expect(screen.getByText('Contact recorded.')).toBeInTheDocument();
    });
  });
});
