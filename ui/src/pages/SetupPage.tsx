// Shown instead of everything else when the app is not set up on this computer (no trust
// configuration, or one the app refuses), or could not tell whether it is. The app then has no
// working core: no sign-in, no lookup field, no other command. The page says what is wrong, what
// to do meanwhile, who to contact, and where the trust's file goes.
import { SummaryList } from 'nhsuk-react-components';
import type { SetupProblemView } from '../backend';

function WhatToDoNow() {
  return (
    <>
      <h2 className="nhsuk-heading-m">What to do now</h2>
      <ul className="nhsuk-list nhsuk-list--bullet">
        <li>To check a patient now, follow your local safeguarding procedure.</li>
        <li>Contact your IT service desk. Tell them what this page says.</li>
      </ul>
    </>
  );
}

export function SetupPage({ problem }: { problem: SetupProblemView }) {
  const problems = problem.problems.filter((text) => text.trim() !== '');
  return (
    <div data-testid="setup-page">
      <h1>CP-IS Viewer is not set up on this computer</h1>
      <p className="nhsuk-body-l">
        You cannot use it to check child protection information until it is set up.
      </p>
      <WhatToDoNow />
      <h2 className="nhsuk-heading-m">What is wrong</h2>
      <ul className="nhsuk-list nhsuk-list--bullet" data-testid="setup-problems">
        {problems.length === 0 ? (
          <li>The app&apos;s settings are not complete.</li>
        ) : (
          problems.map((text, index) => <li key={index}>{text}</li>)
        )}
      </ul>
      <h2 className="nhsuk-heading-m">For your IT service desk</h2>
      <p className="nhsuk-body">
        Your organisation&apos;s settings for CP-IS Viewer go in a file on this computer.
      </p>
      <SummaryList>
        <SummaryList.Row>
          <SummaryList.Key>Settings file for this computer</SummaryList.Key>
          <SummaryList.Value>
            <span className="app-setup-path" data-testid="setup-machine-file">
              {problem.machine_file}
            </span>
          </SummaryList.Value>
        </SummaryList.Row>
        {problem.user_file !== null && (
          <SummaryList.Row>
            <SummaryList.Key>Settings file for your user account</SummaryList.Key>
            <SummaryList.Value>
              <span className="app-setup-path" data-testid="setup-user-file">
                {problem.user_file}
              </span>
            </SummaryList.Value>
          </SummaryList.Row>
        )}
      </SummaryList>
    </div>
  );
}

/** The app could not tell whether it is set up: it stops here rather than guess. */
export function StartupFailedPage({ message }: { message: string }) {
  return (
    <div data-testid="startup-failed">
      <h1>CP-IS Viewer could not start</h1>
      <p className="nhsuk-body-l">{message}</p>
      <p className="nhsuk-body">Close the app and open it again.</p>
      <WhatToDoNow />
    </div>
  );
}
