// The app frame: NHS header, the screen for the session (start, locked, no permission or lookup),
// the status bar, and the inactivity lock. Patient data lives only inside the lookup page, which
// is unmounted the moment the app locks or signs out. Before anything else it asks whether the
// app is set up on this computer; if not, it shows the setup page and calls nothing more.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Container, SkipLink } from 'nhsuk-react-components';
import {
  assertNever,
  ipcErrorMessage,
  lock,
  onLocked,
  reportActivity,
  sessionState,
  setupProblem,
  signOut,
  uiSettings,
  type SessionView,
  type SetupProblemView,
  type TrustContactsView,
  type UserView,
} from './backend';
import { AppHeader, type AppPage } from './components/AppHeader';
import { StatusBar } from './components/StatusBar';
import { NO_TRUST_CONTACTS } from './components/TrustContacts';
import { LockScreen } from './pages/LockScreen';
import { LookupPage } from './pages/LookupPage';
import { NoPermissionPage } from './pages/NoPermissionPage';
import { ReviewPage } from './pages/ReviewPage';
import { SetupPage, StartupFailedPage } from './pages/SetupPage';
import { StartPage } from './pages/StartPage';
import { useInactivityLock } from './session/useInactivityLock';

export const DEFAULT_LOCK_MINUTES = 15;

/** Whether the app is set up on this computer, as far as it knows yet. */
type Setup =
  | { kind: 'checking' }
  | { kind: 'ready' }
  | { kind: 'not_set_up'; problem: SetupProblemView }
  | { kind: 'failed'; message: string };

export function App() {
  const [setup, setSetup] = useState<Setup>({ kind: 'checking' });
  // null until Rust says whether anyone is signed in.
  const [session, setSession] = useState<SessionView | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [lockMinutes, setLockMinutes] = useState(DEFAULT_LOCK_MINUTES);
  const [organisationDisplayName, setOrganisationDisplayName] = useState<string | null>(null);
  const [trust, setTrust] = useState<TrustContactsView>(NO_TRUST_CONTACTS);
  // A new value gives the lookup page a fresh, empty state.
  const [screenEpoch, setScreenEpoch] = useState(0);
  const [statusKey, setStatusKey] = useState(0);
  const [page, setPage] = useState<AppPage>('lookup');
  // Each change of session gets a number; a late answer for an earlier change is ignored.
  const sessionChange = useRef(0);

  useEffect(() => {
    let live = true;
    setupProblem()
      .then((problem) => {
        if (!live) return;
        setSetup(problem === null ? { kind: 'ready' } : { kind: 'not_set_up', problem });
      })
      .catch((error: unknown) => {
        // Without an answer the app cannot know it is safe to go on: it stops here.
        if (!live) return;
        setSetup({
          kind: 'failed',
          message: ipcErrorMessage(error, 'The app could not check its own settings.'),
        });
      });
    return () => {
      live = false;
    };
  }, []);

  const ready = setup.kind === 'ready';
  useEffect(() => {
    if (!ready) return;
    const mine = ++sessionChange.current;
    sessionState()
      .then((next) => {
        if (mine === sessionChange.current) setSession(next);
      })
      .catch(() => {
        if (mine !== sessionChange.current) return;
        setSession({ state: 'signed_out' });
        setNotice('The app could not tell if you are signed in. Sign in to continue.');
      });
  }, [ready]);

  const signedIn = session?.state === 'signed_in';
  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    uiSettings()
      .then((settings) => {
        if (!live) return;
        // A missing or zero setting must never turn the lock off.
        if (settings.lock_minutes > 0) setLockMinutes(settings.lock_minutes);
        setOrganisationDisplayName(settings.organisation_display_name);
        setTrust(settings.trust);
      })
      .catch(() => {
        // Keep the defaults: the app still locks, and the results show the built-in words.
      });
    return () => {
      live = false;
    };
  }, [signedIn]);

  /** Show `next` now, dropping all patient data, then let Rust confirm. */
  const changeSession = useCallback(
    (next: SessionView, confirm: (() => Promise<SessionView>) | null, failure: string | null) => {
      const mine = ++sessionChange.current;
      setScreenEpoch((epoch) => epoch + 1);
      setPage('lookup');
      setSession(next);
      if (confirm === null) return;
      confirm()
        .then((confirmed) => {
          // Never let Rust's answer to a lock or sign-out show a signed-in screen.
          if (mine === sessionChange.current && confirmed.state !== 'signed_in') {
            setSession(confirmed);
          }
        })
        .catch(() => {
          if (mine === sessionChange.current && failure !== null) setNotice(failure);
        });
    },
    [],
  );

  const onLock = useCallback(() => {
    changeSession({ state: 'locked' }, lock, null);
  }, [changeSession]);

  // Rust's own inactivity lock (which a restart, a crash or a reload cannot bypass) refuses any
  // command as `locked` once the session was idle too long: show the lock screen, whichever
  // screen asked, dropping all patient data.
  useEffect(
    () =>
      onLocked(() => {
        changeSession({ state: 'locked' }, null, null);
      }),
    [changeSession],
  );

  /** Input in the window keeps Rust's lock from locking a session in use. */
  const onActivity = useCallback(() => {
    // A `locked` refusal reaches the listener above; anything else changes nothing.
    reportActivity().catch(() => undefined);
  }, []);

  const onSignOut = useCallback(() => {
    setNotice(null);
    changeSession(
      { state: 'signed_out' },
      signOut,
      'Signing out did not finish. Close the app to make sure you are signed out.',
    );
  }, [changeSession]);

  const onSignedIn = useCallback(
    (next: Extract<SessionView, { state: 'signed_in' }>) => {
      setNotice(null);
      changeSession(next, null, null);
      setStatusKey((key) => key + 1);
    },
    [changeSession],
  );

  const onSignInRequired = useCallback(() => {
    const mine = sessionChange.current;
    sessionState()
      .then((next) => {
        if (mine === sessionChange.current && next.state !== 'signed_in') {
          changeSession(next, null, null);
        }
      })
      .catch(() => undefined);
  }, [changeSession]);

  const onLookupFinished = useCallback(() => {
    setStatusKey((key) => key + 1);
  }, []);

  useInactivityLock(signedIn, lockMinutes, onLock, onActivity);

  const user: UserView | null = session?.state === 'signed_in' ? session.user : null;

  return (
    <>
      <SkipLink />
      <AppHeader
        user={user}
        onSignOut={onSignOut}
        page={page}
        onNavigate={setPage}
        organisationDisplayName={organisationDisplayName}
      />
      <div className="app-body">
        <Container>
          <main className="nhsuk-main-wrapper nhsuk-main-wrapper--s" id="maincontent">
            {setup.kind === 'not_set_up' ? (
              <SetupPage problem={setup.problem} />
            ) : setup.kind === 'failed' ? (
              <StartupFailedPage message={setup.message} />
            ) : (
              <Screen
                session={session}
                page={page}
                notice={notice}
                screenEpoch={screenEpoch}
                trust={trust}
                onSignedIn={onSignedIn}
                onLookupFinished={onLookupFinished}
                onSignInRequired={onSignInRequired}
              />
            )}
          </main>
        </Container>
      </div>
      {/* The status bar asks Rust for its status: only once the app is known to be set up. */}
      {ready && <StatusBar user={user} refreshKey={statusKey} />}
    </>
  );
}

interface ScreenProps {
  session: SessionView | null;
  page: AppPage;
  notice: string | null;
  screenEpoch: number;
  trust: TrustContactsView;
  onSignedIn: (session: Extract<SessionView, { state: 'signed_in' }>) => void;
  onLookupFinished: () => void;
  onSignInRequired: () => void;
}

function Screen({
  session,
  page,
  notice,
  screenEpoch,
  trust,
  onSignedIn,
  onLookupFinished,
  onSignInRequired,
}: ScreenProps) {
  if (session === null) {
    return (
      <p className="nhsuk-body" data-testid="starting">
        Starting…
      </p>
    );
  }
  switch (session.state) {
    case 'signed_out':
      return <StartPage key={screenEpoch} onSignedIn={onSignedIn} notice={notice} />;
    case 'locked':
      return <LockScreen key={screenEpoch} onSignedIn={onSignedIn} />;
    case 'signed_in':
      // The review also holds patient data: it is keyed like the lookup page, so it goes too.
      if (session.user.can_review && (page === 'review' || !session.user.can_look_up)) {
        return <ReviewPage key={screenEpoch} />;
      }
      if (!session.user.can_look_up) return <NoPermissionPage user={session.user} />;
      return (
        <LookupPage
          key={screenEpoch}
          unscheduled={session.user.unscheduled}
          trust={trust}
          onLookupFinished={onLookupFinished}
          onSignInRequired={onSignInRequired}
        />
      );
    default:
      return assertNever(session);
  }
}
