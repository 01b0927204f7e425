// The start screen when nobody is signed in: what the app is for and how to sign in.
import { InsetText } from 'nhsuk-react-components';
import type { SessionView } from '../backend';
import { SignIn } from '../components/SignIn';

interface Props {
  onSignedIn: (session: Extract<SessionView, { state: 'signed_in' }>) => void;
  /** Something the user should know, such as a sign-out that did not finish. */
  notice: string | null;
}

export function StartPage({ onSignedIn, notice }: Props) {
  return (
    <div data-testid="start-screen">
      <h1>Check child protection information</h1>
      {notice !== null && (
        <InsetText data-testid="start-notice">
          <p>{notice}</p>
        </InsetText>
      )}
      <p className="nhsuk-body-l">
        Use CP-IS Viewer to find out if a child has a child protection plan or is looked after. For
        a pregnant woman, it shows an unborn child protection plan.
      </p>
      <p className="nhsuk-body">
        You look people up by NHS number. The app shows who to phone at the local authority.
      </p>
      <p className="nhsuk-body">Sign in with your NHS Care Identity account to start.</p>
      <SignIn onSignedIn={onSignedIn} />
    </div>
  );
}
