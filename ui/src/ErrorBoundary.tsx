// Last line of defence: a rendering error shows a plain message, never a blank window.
import { Component, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
}

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false };

  // The error itself may hold patient data: it is neither shown nor logged.
  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override render() {
    if (this.state.failed) {
      return (
        <div className="nhsuk-width-container">
          <main className="nhsuk-main-wrapper" id="maincontent">
            <h1>Sorry, there is a problem with CP-IS Viewer</h1>
            <p>
              The app stopped working. No child protection check is shown. Close and reopen the
              app. If you need an answer now, follow your local procedure and phone the local
              authority&apos;s emergency duty team.
            </p>
          </main>
        </div>
      );
    }
    return this.props.children;
  }
}
