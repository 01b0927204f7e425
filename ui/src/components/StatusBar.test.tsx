// The status bar: who is signed in, service reachability, the audit queue and the version.
import { act, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StatusView } from '../backend';
import { axeViolations } from '../test/axe';
import { NURSE, STATUS_OK } from '../test/fixtures';
import { callsTo, deferred, mockBackend, ipcRejection } from '../test/ipc';
import { STATUS_POLL_MS, StatusBar } from './StatusBar';

function withAudit(audit: Partial<StatusView['audit']>, more: Partial<StatusView> = {}): StatusView {
  return { ...STATUS_OK, ...more, audit: { ...STATUS_OK.audit, ...audit } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StatusBar', () => {
  it('says Not known before the first check, then shows the answer', async () => {
    const answer = deferred<StatusView>();
    mockBackend({ status: () => answer.promise });
    const { container } = render(<StatusBar user={NURSE} refreshKey={0} />);
    const bar = screen.getByTestId('status-bar');
    expect(bar).toHaveTextContent('Signed in: Alex Testnurse, Registered Nurse');
    expect(screen.getByTestId('status-services')).toHaveTextContent('Services: Not known');
    expect(screen.getByTestId('status-audit')).toHaveTextContent('Audit records waiting: Not known');
    expect(screen.getByTestId('status-version')).toHaveTextContent('Version not known');
    expect(screen.queryByTestId('status-config')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    answer.resolve(STATUS_OK);
    expect(await screen.findByText('Version 9.9.9')).toBeInTheDocument();
    expect(screen.getByTestId('status-services')).toHaveTextContent('Services: Reachable');
    expect(screen.getByTestId('status-audit')).toHaveTextContent('Audit records waiting: 0');
    expect(screen.queryByTestId('audit-warning-tag')).not.toBeInTheDocument();
    expect(screen.queryByTestId('status-quarantined')).not.toBeInTheDocument();
    expect(screen.queryByTestId('status-unreadable')).not.toBeInTheDocument();
  });

  it('says who is not signed in', () => {
    mockBackend();
    render(<StatusBar user={null} refreshKey={0} />);
    expect(screen.getByTestId('status-user')).toHaveTextContent('Not signed in');
  });

  it('warns when the audit queue grows, with the count and oldest age', async () => {
    mockBackend({
      status: () =>
        withAudit(
          { waiting: 42, oldest_waiting_minutes: 75, warning: true, quarantined: 2 },
          { services_reachable: false },
        ),
    });
    const { container } = render(<StatusBar user={NURSE} refreshKey={0} />);
    const audit = screen.getByTestId('status-audit');
    expect(await screen.findByTestId('audit-warning-tag')).toHaveTextContent('Warning');
    expect(audit).toHaveTextContent('Audit records waiting: 42 (oldest 75 minutes)');
    expect(audit).toHaveTextContent('Audit records are not being sent.');
    expect(screen.getByTestId('status-services')).toHaveTextContent('Services: Not reachable');
    expect(screen.getByTestId('status-quarantined')).toHaveTextContent(
      'Audit records rejected: 2 records',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says plainly when audit records on this computer could not be read', async () => {
    mockBackend({
      status: () => withAudit({ warning: true, unreadable_files: 1 }),
    });
    const { container } = render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-unreadable')).toHaveTextContent(
      'Audit records on this computer could not be read and have not been sent. Report this to your IT service desk.',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows a failed local audit queue as an incident', async () => {
    mockBackend({
      status: () => withAudit({
          queue_error: {
            code: 'audit_queue_unavailable',
            message: 'The audit queue on this computer could not be opened.',
          },
        }),
    });
    const { container } = render(<StatusBar user={NURSE} refreshKey={0} />);
    const incident = await screen.findByTestId('queue-error');
    expect(incident).toHaveRole('alert');
    expect(incident).toHaveTextContent('Incident: the local audit record is not working.');
    expect(incident).toHaveTextContent('could not be opened');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says which configuration file is in use, quietly', async () => {
    mockBackend();
    const { container } = render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-config')).toHaveTextContent(
      'Settings: /etc/cpis-viewer/config.toml (machine-wide)',
    );
    expect(await axeViolations(container)).toEqual([]);
  });

  it('names every configuration file in use, in order', async () => {
    mockBackend({
      status: () =>
        withAudit(
          {},
          {
            config_files: [
              '/etc/cpis-viewer/config.toml (machine-wide)',
              '/home/testuser/.config/cpis-viewer/config.toml (yours)',
            ],
          },
        ),
    });
    render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-config')).toHaveTextContent(
      'Settings: /etc/cpis-viewer/config.toml (machine-wide); /home/testuser/.config/cpis-viewer/config.toml (yours)',
    );
  });

  it('says when only the built-in development settings are in use', async () => {
    mockBackend({ status: () => withAudit({}, { config_files: [] }) });
    render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-config')).toHaveTextContent(
      'Settings: built in, for development only',
    );
  });

  it('says the status is not known for an answer it cannot read', async () => {
    const withoutFiles: Partial<StatusView> = { ...STATUS_OK };
    delete withoutFiles.config_files;
    mockBackend({ status: () => withoutFiles });
    render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-failed')).toHaveTextContent('Status not known');
    expect(screen.queryByTestId('status-config')).not.toBeInTheDocument();
  });

  it('says the status is not known when the call fails', async () => {
    mockBackend({ status: () => ipcRejection('unexpected', 'x') });
    render(<StatusBar user={NURSE} refreshKey={0} />);
    expect(await screen.findByTestId('status-failed')).toHaveTextContent('Status not known');
  });

  it('asks again every 10 seconds and after each lookup', async () => {
    vi.useFakeTimers();
    const calls = mockBackend();
    const { rerender } = render(<StatusBar user={NURSE} refreshKey={0} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(callsTo(calls, 'status')).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(STATUS_POLL_MS);
    });
    expect(callsTo(calls, 'status')).toHaveLength(2);
    rerender(<StatusBar user={NURSE} refreshKey={1} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(callsTo(calls, 'status')).toHaveLength(3);
  });
});
