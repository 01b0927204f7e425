// The lock screen after inactivity. It shows no patient data and asks the user to sign in again.
import type { SessionView } from '../backend';
import { SignIn } from '../components/SignIn';

interface Props {
  onSignedIn: (session: Extract<SessionView, { state: 'signed_in' }>) => void;
}

export function LockScreen({ onSignedIn }: Props) {
  return (
    <div data-testid="lock-screen">
      <h1>CP-IS Viewer is locked</h1>
      <p className="nhsuk-body">
        The app locked because nobody used it for a while. This keeps patient information safe.
      </p>
      <p className="nhsuk-body">Sign in again to continue.</p>
      <SignIn onSignedIn={onSignedIn} />
    </div>
  );
}
