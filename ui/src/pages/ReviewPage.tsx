// The safeguarding named nurse's review: views with plans found at their organisation in the
// last 24 hours or 7 days (from the central audit log), the plans each view found and their
// local authorities (whom to chase), whether LA contact was recorded, a warning when the list
// may not hold every view, a filter, and a CSV export for safeguarding meetings.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Button, Radios, Table, Tag, TextInput, WarningCallout } from 'nhsuk-react-components';
import { ipcErrorMessage } from '../backend';
import {
  review,
  saveReviewCsv,
  type ReviewPeriod,
  type ReviewRow,
  type ReviewView,
} from '../backend/review';

type State =
  | { kind: 'loading' }
  | { kind: 'loaded'; view: ReviewView }
  | { kind: 'failed'; message: string };

const PERIODS: { value: ReviewPeriod; label: string }[] = [
  { value: 'last24_hours', label: 'Last 24 hours' },
  { value: 'last7_days', label: 'Last 7 days' },
];

/** The organisation as the summary names it: "Northshire General Hospital (ZZ1ED)". */
function organisation(view: ReviewView): string {
  return view.organisation_name === ''
    ? view.organisation_ods
    : `${view.organisation_name} (${view.organisation_ods})`;
}

/** The plans a view found and their local authorities, as recorded with the view. */
function PlansFound({ row }: { row: ReviewRow }) {
  if (row.plans === null) {
    return <span className="nhsuk-body-s">Plans not recorded</span>;
  }
  if (row.plans.length === 0) {
    return <span className="nhsuk-body-s">None recorded</span>;
  }
  return (
    <ul className="nhsuk-list nhsuk-u-margin-bottom-0">
      {row.plans.map((plan, index) => (
        <li key={`${String(index)}-${plan.plan_type}-${plan.local_authority}`}>
          {plan.plan_type}: {plan.local_authority}
          {plan.local_authority_ods === null ? '' : ` (${plan.local_authority_ods})`}
        </li>
      ))}
    </ul>
  );
}

export function ReviewPage() {
  const [period, setPeriod] = useState<ReviewPeriod>('last24_hours');
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [filter, setFilter] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const latest = useRef(0);

  // Only ever sets state once the answer comes (never synchronously inside the effect).
  const load = useCallback((which: ReviewPeriod) => {
    const mine = ++latest.current;
    review(which)
      .then((view) => {
        if (mine === latest.current) setState({ kind: 'loaded', view });
      })
      .catch((error: unknown) => {
        if (mine === latest.current) {
          setState({
            kind: 'failed',
            message: ipcErrorMessage(error, 'The review could not be loaded. Try again.'),
          });
        }
      });
  }, []);

  useEffect(() => {
    load('last24_hours');
  }, [load]);

  const choosePeriod = (which: ReviewPeriod) => {
    setPeriod(which);
    setState({ kind: 'loading' });
    load(which);
  };

  const rows = useMemo(() => {
    if (state.kind !== 'loaded') return [];
    const needle = filter.trim().toLowerCase().replace(/[\s-]/g, '');
    if (needle === '') return state.view.rows;
    return state.view.rows.filter(
      (row) =>
        row.nhs_number.replace(/\s/g, '').includes(needle) ||
        row.viewer_name.toLowerCase().replace(/\s/g, '').includes(needle),
    );
  }, [state, filter]);

  const withoutContact = rows.filter((row) => !row.la_contacted).length;

  const exportCsv = () => {
    setSaved(null);
    setSaveError(null);
    saveReviewCsv(period)
      .then(setSaved)
      .catch((error: unknown) => {
        setSaveError(ipcErrorMessage(error, 'The review could not be saved.'));
      });
  };

  return (
    <div data-testid="review-page">
      <h1>Recent child protection alerts at your organisation</h1>
      <Radios
        legend="Show alerts seen in the"
        legendProps={{ size: 's' }}
        inline
        name="period"
        id="review-period"
      >
        {PERIODS.map((option) => (
          <Radios.Item
            key={option.value}
            value={option.value}
            checked={period === option.value}
            onChange={() => {
              choosePeriod(option.value);
            }}
          >
            {option.label}
          </Radios.Item>
        ))}
      </Radios>
      <TextInput
        id="review-filter"
        label="Filter by NHS number or viewer"
        width={20}
        value={filter}
        onChange={(event) => {
          setFilter(event.target.value);
        }}
      />
      {state.kind === 'loading' && <p className="nhsuk-body">Loading…</p>}
      {state.kind === 'failed' && (
        <div className="nhsuk-error-summary" role="alert" data-testid="review-error">
          <h2 className="nhsuk-error-summary__title">The review could not be loaded</h2>
          <div className="nhsuk-error-summary__body">
            <p>{state.message}</p>
          </div>
        </div>
      )}
      {state.kind === 'loaded' && (
        <>
          {state.view.incomplete !== null && (
            <WarningCallout data-testid="review-incomplete">
              <WarningCallout.Heading headingLevel="h2">
                This list may not show every view
              </WarningCallout.Heading>
              <p>{state.view.incomplete}</p>
            </WarningCallout>
          )}
          <p className="nhsuk-body" data-testid="review-summary">
            {rows.length === 1 ? '1 view' : `${String(rows.length)} views`} with a plan found at{' '}
            {organisation(state.view)}
            {state.view.incomplete === null ? '' : ' in this list'}.{' '}
            {withoutContact === 0
              ? state.view.incomplete === null
                ? 'Local authority contact was recorded for all of them.'
                : 'Local authority contact was recorded for all of these.'
              : `${String(withoutContact)} without local authority contact recorded.`}{' '}
            Checked {state.view.generated_at}.
          </p>
          {rows.length > 0 && (
            <Table caption="Views with a plan found, newest first" captionProps={{ size: 's' }}>
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Seen</Table.Cell>
                  <Table.Cell>NHS number</Table.Cell>
                  <Table.Cell>Seen by</Table.Cell>
                  <Table.Cell>Plans found and local authority</Table.Cell>
                  <Table.Cell>Local authority contact</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {rows.map((row) => (
                  <Table.Row key={`${row.viewed_at_iso}-${row.nhs_number}-${row.viewer_name}`}>
                    <Table.Cell>{row.viewed_at}</Table.Cell>
                    <Table.Cell>{row.nhs_number}</Table.Cell>
                    <Table.Cell>
                      {row.viewer_name}, {row.viewer_role}
                    </Table.Cell>
                    <Table.Cell>
                      <PlansFound row={row} />
                    </Table.Cell>
                    <Table.Cell>
                      {row.la_contacted ? (
                        <>
                          <Tag modifier="green">Recorded</Tag> {row.la_contact ?? ''}
                        </>
                      ) : (
                        <Tag modifier="orange">Not recorded</Tag>
                      )}
                    </Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          )}
          <Button secondary type="button" onClick={exportCsv}>
            Save as CSV
          </Button>
          {saved !== null && (
            <p className="nhsuk-body" data-testid="review-saved">
              Saved to {saved}. It holds NHS numbers: keep it secure and delete it after use.
            </p>
          )}
          {saveError !== null && (
            <p className="nhsuk-error-message" data-testid="review-save-error">
              {saveError}
            </p>
          )}
        </>
      )}
    </div>
  );
}
