// The named nurse review: rows from the central audit log with the plans each view found and
// their local authorities, LA contact shown, a warning when the list is incomplete, filter,
// export.
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockIPC } from '@tauri-apps/api/mocks';
import { describe, expect, it } from 'vitest';
import type { ReviewView } from '../backend/review';
import { axeViolations } from '../test/axe';
import { ReviewPage } from './ReviewPage';

function view(period: ReviewView['period']): ReviewView {
  return {
    period,
    organisation_ods: 'ZZ1ED',
    organisation_name: 'Northshire General Hospital',
    generated_at: '25 November 2026 at 10am',
    incomplete: null,
    rows: [
      {
        viewed_at: '25 November 2026 at 9.30am',
        viewed_at_iso: '2026-11-25T09:30:00Z',
        viewer_name: 'Tess Triage-Test',
        viewer_role: 'Nurse Access Role',
        nhs_number: '999 300 1023',
        unscheduled: true,
        la_contacted: true,
        la_contact: 'Phoned the emergency duty team, 25 November 2026 at 9.40am',
        plans: [
          {
            plan_type: 'Child protection plan',
            local_authority: 'Testshire County Council',
            local_authority_ods: 'Z9L01',
          },
          {
            plan_type: 'Looked after child',
            local_authority: 'Elsewhere Borough Council',
            local_authority_ods: null,
          },
        ],
      },
      {
        viewed_at: '25 November 2026 at 8am',
        viewed_at_iso: '2026-11-25T08:00:00Z',
        viewer_name: 'Maya Midwife-Test',
        viewer_role: 'Midwife Access Role',
        nhs_number: '999 956 4623',
        unscheduled: true,
        la_contacted: false,
        la_contact: null,
        plans: null,
      },
    ],
  };
}

describe('ReviewPage', () => {
  it('lists views with whether LA contact was recorded, with no axe violations', async () => {
    const periods: string[] = [];
    mockIPC((command, payload) => {
      if (command === 'review') {
        const period = (payload as { period: ReviewView['period'] }).period;
        periods.push(period);
        return view(period);
      }
      return null;
    });
    const { container } = render(<ReviewPage />);
    const table = await screen.findByRole('table');
    expect(within(table).getByText('999 300 1023')).toBeInTheDocument();
    expect(within(table).getByText('Recorded')).toBeInTheDocument();
    expect(within(table).getByText('Not recorded')).toBeInTheDocument();
    expect(screen.getByTestId('review-summary')).toHaveTextContent(
      '2 views with a plan found at Northshire General Hospital (ZZ1ED). 1 without local authority contact recorded.',
    );
    expect(screen.queryByTestId('review-incomplete')).not.toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    await userEvent.click(screen.getByLabelText('Last 7 days'));
    await screen.findByRole('table');
    expect(periods).toEqual(['last24_hours', 'last7_days']);
  });

  it('shows the plans each view found and whom to chase, or that they were not recorded', async () => {
    mockIPC((command) => (command === 'review' ? view('last24_hours') : null));
    render(<ReviewPage />);
    const table = await screen.findByRole('table');
    expect(
      within(table).getByRole('columnheader', { name: 'Plans found and local authority' }),
    ).toBeInTheDocument();
    const [, first, second] = within(table).getAllByRole('row');
    expect(first).toHaveTextContent('Child protection plan: Testshire County Council (Z9L01)');
    expect(first).toHaveTextContent('Looked after child: Elsewhere Borough Council');
    expect(second).toHaveTextContent('Plans not recorded');
  });

  it('warns plainly when the list may not show every view', async () => {
    const cut: ReviewView = {
      ...view('last7_days'),
      organisation_name: '',
      incomplete:
        'This list is cut short. It is built from the newest 50000 audit records of the 61000 for this period.',
      rows: view('last7_days').rows.slice(0, 1),
    };
    mockIPC((command) => (command === 'review' ? cut : null));
    const { container } = render(<ReviewPage />);
    const warning = await screen.findByTestId('review-incomplete');
    expect(
      within(warning).getByRole('heading', { name: /This list may not show every view/ }),
    ).toBeInTheDocument();
    expect(warning).toHaveTextContent('This list is cut short.');
    const summary = screen.getByTestId('review-summary');
    expect(summary).toHaveTextContent('1 view with a plan found at ZZ1ED in this list.');
    expect(summary).not.toHaveTextContent('recorded for all of them');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('filters by NHS number or viewer', async () => {
    mockIPC((command) => (command === 'review' ? view('last24_hours') : null));
    render(<ReviewPage />);
    await screen.findByRole('table');
    await userEvent.type(screen.getByLabelText('Filter by NHS number or viewer'), '9999564623');
    const table = screen.getByRole('table');
    expect(within(table).queryByText('999 300 1023')).not.toBeInTheDocument();
    expect(within(table).getByText('999 956 4623')).toBeInTheDocument();
  });

  it('says plainly when the review cannot be loaded', async () => {
    // Tauri rejects a command's error value as it is: here, the IpcError from Rust.
    const ipcError = { code: 'audit_log_unavailable', message: 'The central audit log could not be reached.' };
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- IPC errors are plain objects
    mockIPC(() => Promise.reject(ipcError));
    render(<ReviewPage />);
    expect(await screen.findByTestId('review-error')).toHaveTextContent(
      'The central audit log could not be reached.',
    );
  });

  it('saves the CSV and says where', async () => {
    mockIPC((command) => {
      if (command === 'review') return view('last24_hours');
      if (command === 'save_review_csv') return '/home/test/Downloads/cpis-review.csv';
      return null;
    });
    render(<ReviewPage />);
    await screen.findByRole('table');
    await userEvent.click(screen.getByRole('button', { name: 'Save as CSV' }));
    expect(await screen.findByTestId('review-saved')).toHaveTextContent(
      'Saved to /home/test/Downloads/cpis-review.csv',
    );
  });
});
