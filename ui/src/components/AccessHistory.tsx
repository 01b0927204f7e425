// Who has looked at this record: a summary, the timeline picture and the list of the last 25 views.
// When the history could not be loaded it says so, and never shows it as empty.
import { Table } from 'nhsuk-react-components';
import type { AccessView } from '../backend';
import { AccessTimeline, lanesOf } from './AccessTimeline';

interface Props {
  history: AccessView[];
  unavailable: string | null;
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? `1 ${one}` : `${String(count)} ${many}`;
}

export function AccessHistory({ history, unavailable }: Props) {
  return (
    <section className="app-access-history" aria-labelledby="access-history-heading" data-testid="access-history">
      <h2 id="access-history-heading" className="nhsuk-heading-m">
        Who has looked at this record
      </h2>
      {unavailable !== null ? (
        <div className="app-history-unavailable" data-testid="access-history-unavailable">
          <p className="nhsuk-body">
            <strong>The access history could not be loaded.</strong> {unavailable}
          </p>
          <p className="nhsuk-body">
            This does not mean nobody else has looked. The plan details above are still correct.
          </p>
        </div>
      ) : history.length === 0 ? (
        <p className="nhsuk-body">No views are recorded.</p>
      ) : (
        <>
          <Summary history={history} />
          <AccessTimeline history={history} />
          <Table caption="The last 25 views, newest first" captionProps={{ size: 's' }}>
            <Table.Head>
              <Table.Row>
                <Table.Cell>When</Table.Cell>
                <Table.Cell>Who</Table.Cell>
                <Table.Cell>Organisation</Table.Cell>
              </Table.Row>
            </Table.Head>
            <Table.Body>
              {history.map((entry, index) => (
                <Table.Row key={`${entry.accessed_at_iso}-${String(index)}`}>
                  <Table.Cell>{entry.accessed_at}</Table.Cell>
                  <Table.Cell>
                    {entry.viewer_name}
                    <br />
                    <span className="nhsuk-body-s app-secondary-text">{entry.viewer_role}</span>
                  </Table.Cell>
                  <Table.Cell>{entry.organisation_name}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        </>
      )}
    </section>
  );
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** Views in the 7 days up to the newest one (the current view is always the newest). */
export function recentViews(history: AccessView[]): { views: number; organisations: number } {
  const dated = history
    .map((entry) => ({ entry, time: Date.parse(entry.accessed_at_iso) }))
    .filter(({ time }) => !Number.isNaN(time));
  if (dated.length === 0) return { views: 0, organisations: 0 };
  const newest = Math.max(...dated.map(({ time }) => time));
  const recent = dated.filter(({ time }) => time >= newest - WEEK_MS);
  const organisations = new Set(
    recent.map(({ entry }) => entry.organisation_ods || entry.organisation_name),
  );
  return { views: recent.length, organisations: organisations.size };
}

function Summary({ history }: { history: AccessView[] }) {
  const lanes = lanesOf(history);
  const recent = recentViews(history);
  return (
    <>
      <p className="nhsuk-body" data-testid="access-summary">
        {plural(history.length, 'view', 'views')} by{' '}
        {plural(lanes.length, 'organisation', 'organisations')}.
        {lanes.length > 1 && (
          <>
            {' '}
            <strong>This record has been looked at by more than one organisation.</strong>
          </>
        )}
      </p>
      {recent.views > 1 && (
        <p className="nhsuk-body" data-testid="access-recent">
          {recent.organisations > 1 ? (
            <strong>
              In the last 7 days: {plural(recent.views, 'view', 'views')} by{' '}
              {plural(recent.organisations, 'organisation', 'organisations')}.
            </strong>
          ) : (
            <>In the last 7 days: {plural(recent.views, 'view', 'views')} by 1 organisation.</>
          )}
        </p>
      )}
    </>
  );
}
