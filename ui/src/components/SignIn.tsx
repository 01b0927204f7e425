// The sign-in action: opens the system browser through Rust, waits, and can be cancelled.
import { useEffect, useRef, useState } from 'react';
import { Button, ErrorSummary } from 'nhsuk-react-components';
import { cancelSignIn, ipcErrorMessage, signIn, type SessionView } from '../backend';

interface Props {
  onSignedIn: (session: Extract<SessionView, { state: 'signed_in' }>) => void;
}

type SignInState = { kind: 'idle' } | { kind: 'waiting' } | { kind: 'failed'; message: string };

export function SignIn({ onSignedIn }: Props) {
  const [state, setState] = useState<SignInState>({ kind: 'idle' });
  // A cancelled or replaced sign-in's late answer is ignored.
  const attempt = useRef(0);
  const signInButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    attempt.current += 1;
    return () => {
      // Unmounted: ignore whatever the pending sign-in answers.
      attempt.current += 1;
    };
  }, []);

  useEffect(() => {
    if (state.kind === 'waiting') cancelButton.current?.focus();
  }, [state.kind]);

  const start = async () => {
    attempt.current += 1;
    const mine = attempt.current;
    setState({ kind: 'waiting' });
    try {
      const session = await signIn();
      if (mine !== attempt.current) return;
      if (session.state === 'signed_in') {
        onSignedIn(session);
      } else {
        setState({ kind: 'failed', message: 'Sign-in did not finish.' });
      }
    } catch (error) {
      if (mine !== attempt.current) return;
      setState({ kind: 'failed', message: ipcErrorMessage(error, 'Sign-in did not work.') });
    }
  };

  const cancel = () => {
    attempt.current += 1;
    // Rust stops waiting too, so a sign-in finished later in the browser signs nobody in.
    cancelSignIn().catch(() => undefined);
    setState({ kind: 'idle' });
    // Focus moves back to the button once it is shown again.
    setTimeout(() => signInButton.current?.focus(), 0);
  };

  if (state.kind === 'waiting') {
    return (
      <div className="app-sign-in-waiting" data-testid="sign-in-waiting">
        <p className="nhsuk-body" role="status">
          <strong>Waiting for you to sign in…</strong>
        </p>
        <p className="nhsuk-body">
          Your web browser has opened. Sign in there with your smartcard or Care Identity account. Then
          come back to this app.
        </p>
        <Button ref={cancelButton} type="button" secondary onClick={cancel}>
          Cancel
        </Button>
      </div>
    );
  }

  return (
    <>
      {state.kind === 'failed' && (
        <ErrorSummary disableAutoFocus data-testid="sign-in-error">
          <ErrorSummary.Title>Sign-in did not work</ErrorSummary.Title>
          <p>{state.message}</p>
          <p>Try again. If it keeps happening, contact your IT service desk.</p>
        </ErrorSummary>
      )}
      <Button
        ref={signInButton}
        type="button"
        login
        data-testid="sign-in-button"
        onClick={() => {
          void start();
        }}
      >
        Sign in
      </Button>
    </>
  );
}
