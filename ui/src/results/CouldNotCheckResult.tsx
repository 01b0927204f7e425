// The check did not happen. It must never look or read like "no plan": a red error style, its own
// words, what to do instead (with the trust's downtime procedure and safeguarding numbers when it
// set them), a support reference to copy for the service desk (TraceID and detail code, no patient
// data) when the attempt reached a service, and a retry.
import { Button } from 'nhsuk-react-components';
import type { TrustContactsView } from '../backend';
import {
  DowntimeProcedure,
  SafeguardingNumbers,
  hasSafeguardingNumbers,
} from '../components/TrustContacts';
import { CopyButton } from '../components/CopyButton';
import { formatEntered } from './formatEntered';

interface Props {
  reason: string;
  attemptedAt: string | null;
  /** The NHS number as the user entered it, to confirm which check failed. */
  entered: string;
  /** The trust's own procedure and numbers; empty when it set none. */
  trust: TrustContactsView;
  /** The TraceID and detail code for the service desk; null when nothing was sent. */
  supportReference?: string | null;
  onRetry: () => void;
}

/** The support reference as selectable text, with a button that copies it. */
function SupportReference({ reference }: { reference: string }) {
  return (
    <div className="app-support-reference" data-testid="support-reference">
      <p className="nhsuk-body-s nhsuk-u-margin-bottom-1">
        If this keeps happening, give this support reference to your IT service desk:
      </p>
      <p className="nhsuk-body-s nhsuk-u-margin-bottom-1">
        <code className="app-support-reference__text" data-testid="support-reference-text">
          {reference}
        </code>
      </p>
      <CopyButton
        text={reference}
        what="the support reference"
        label="Copy support reference"
        failedMessage="Could not copy. Select the support reference and copy it yourself."
      />
    </div>
  );
}

export function CouldNotCheckResult({
  reason,
  attemptedAt,
  entered,
  trust,
  supportReference = null,
  onRetry,
}: Props) {
  const hasProcedure = trust.downtime_procedure.some((paragraph) => paragraph.trim() !== '');
  const hasNumbers = hasSafeguardingNumbers(trust);
  return (
    <div className="app-result app-result--could-not-check" data-testid="result-could-not-check">
      <section className="app-could-not-check" aria-labelledby="could-not-check-heading">
        <h2 id="could-not-check-heading" className="nhsuk-heading-m">
          The child protection check did not happen
        </h2>
        <p className="nhsuk-body">
          <strong>We do not know if this person has a child protection plan.</strong>
        </p>
        <p className="nhsuk-body">Why: {reason}</p>
        {supportReference !== null && supportReference.trim() !== '' && (
          <SupportReference reference={supportReference} />
        )}
        <h3 className="nhsuk-heading-s">What to do now</h3>
        <ul className="nhsuk-list nhsuk-list--bullet">
          <li>
            {hasProcedure
              ? 'Follow your local downtime procedure, below.'
              : 'Follow your local safeguarding procedure.'}
          </li>
          <li>
            {hasNumbers
              ? "If you have concerns, phone your safeguarding team or the local authority's emergency duty team."
              : "If you have concerns, phone the local authority's emergency duty team."}
          </li>
          <li>Try the check again.</li>
        </ul>
        <DowntimeProcedure paragraphs={trust.downtime_procedure} />
        {hasNumbers && (
          <>
            <h3 className="nhsuk-heading-s">Your safeguarding team</h3>
            <SafeguardingNumbers trust={trust} />
          </>
        )}
        <p className="nhsuk-body-s app-secondary-text">
          NHS number entered: {formatEntered(entered)}
          {attemptedAt !== null && (
            <>
              <br />
              Tried at {attemptedAt}
            </>
          )}
        </p>
        <Button
          type="button"
          className="nhsuk-u-margin-bottom-0"
          data-testid="retry-button"
          onClick={onRetry}
        >
          Retry the check
        </Button>
      </section>
    </div>
  );
}
