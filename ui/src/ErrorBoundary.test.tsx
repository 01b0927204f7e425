// The error screen: no patient data, and no activity reported to Rust, so Rust's own inactivity
// lock still locks the session (a reload of the UI then finds it locked).
import { act, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { ErrorBoundary } from './ErrorBoundary';
import { callsTo, mockBackend } from './test/ipc';

function Boom({ fail }: { fail: boolean }) {
  if (fail) throw new Error('a rendering error with 999 000 0018 in it');
  return null;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ErrorBoundary', () => {
  it('shows the error screen and stops reporting activity, so Rust still locks', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    // React reports the caught error on the console; the test keeps it quiet.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const calls = mockBackend();
    const { rerender } = render(
      <ErrorBoundary>
        <App />
        <Boom fail={false} />
      </ErrorBoundary>,
    );
    await screen.findByRole('textbox', { name: /NHS number/ });
    await waitFor(() => {
      window.dispatchEvent(new Event('keydown'));
      expect(callsTo(calls, 'report_activity')).toHaveLength(1);
    });

    rerender(
      <ErrorBoundary>
        <App />
        <Boom fail />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(
      'Sorry, there is a problem with CP-IS Viewer',
    );
    expect(document.body).not.toHaveTextContent('999 000 0018');
    for (let minute = 0; minute < 16; minute += 1) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(60_000);
      });
      window.dispatchEvent(new Event('keydown'));
    }
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(callsTo(calls, 'report_activity')).toHaveLength(1);
  });
});
