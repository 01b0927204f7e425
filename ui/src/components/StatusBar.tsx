// The status bar: who is signed in and as what, whether the services answer, the audit queue,
// the version, and which configuration files are in use. It stays at the bottom of the window. It asks Rust every 10 seconds, and
// again after each lookup.
import { useEffect, useState } from 'react';
import { Tag } from 'nhsuk-react-components';
import { status, type StatusView, type UserView } from '../backend';

export const STATUS_POLL_MS = 10_000;

interface Props {
  user: UserView | null;
  /** Changes after each lookup, to ask for the status at once. */
  refreshKey: number;
}

function minutes(count: number): string {
  if (count < 1) return 'less than a minute';
  if (count < 120) return count === 1 ? '1 minute' : `${String(count)} minutes`;
  const hours = Math.floor(count / 60);
  return `${String(hours)} hours`;
}

function records(count: number): string {
  return count === 1 ? '1 record' : `${String(count)} records`;
}

export function StatusBar({ user, refreshKey }: Props) {
  const [view, setView] = useState<StatusView | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    const load = () => {
      status()
        .then((next) => {
          if (!live) return;
          setView(next);
          setFailed(false);
        })
        .catch(() => {
          if (live) setFailed(true);
        });
    };
    load();
    const timer = setInterval(load, STATUS_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [refreshKey]);

  const audit = view?.audit;
  const reachable = view?.services_reachable ?? null;

  return (
    <footer className="app-status-bar" aria-label="Status" data-testid="status-bar">
      <div className="nhsuk-width-container">
        {audit !== undefined && audit.queue_error !== null && (
          <div className="app-status-bar__incident" role="alert" data-testid="queue-error">
            <strong>Incident: the local audit record is not working.</strong> {audit.queue_error.message}{' '}
            Report this to your IT service desk.
          </div>
        )}
        <ul className="app-status-bar__items">
          <li data-testid="status-user">
            {user === null ? 'Not signed in' : `Signed in: ${user.name}, ${user.role_name}`}
          </li>
          <li data-testid="status-services">
            Services:{' '}
            {reachable === null ? 'Not known' : reachable ? 'Reachable' : (
              <strong className="app-status-bar__bad">Not reachable</strong>
            )}
          </li>
          <li data-testid="status-audit">
            Audit records waiting: {audit === undefined ? 'Not known' : audit.waiting}
            {audit !== undefined && audit.waiting > 0 && audit.oldest_waiting_minutes !== null && (
              <> (oldest {minutes(audit.oldest_waiting_minutes)})</>
            )}
            {audit?.warning === true && (
              <>
                {' '}
                <Tag modifier="orange" data-testid="audit-warning-tag">
                  Warning
                </Tag>{' '}
                <span>Audit records are not being sent. Tell your IT service desk.</span>
              </>
            )}
          </li>
          {audit !== undefined && audit.unreadable_files > 0 && (
            <li data-testid="status-unreadable">
              <strong className="app-status-bar__bad">
                Audit records on this computer could not be read and have not been sent.
              </strong>{' '}
              Report this to your IT service desk.
            </li>
          )}
          {audit !== undefined && audit.quarantined > 0 && (
            <li data-testid="status-quarantined">
              Audit records rejected: {records(audit.quarantined)}
            </li>
          )}
          {failed && <li data-testid="status-failed">Status not known</li>}
          <li data-testid="status-version">
            {view === null ? 'Version not known' : `Version ${view.version}`}
          </li>
          {view !== null && (
            <li className="app-status-bar__config app-secondary-text" data-testid="status-config">
              Settings:{' '}
              {view.config_files.length === 0
                ? 'built in, for development only'
                : view.config_files.join('; ')}
            </li>
          )}
        </ul>
      </div>
    </footer>
  );
}
