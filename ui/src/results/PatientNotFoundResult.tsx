// The demographics service does not know this NHS number, so CP-IS was not asked. The check was
// not done, so the trust's safeguarding numbers follow when it set them.
import type { LookupView, TrustContactsView } from '../backend';
import { IfYouHaveConcerns } from '../components/TrustContacts';
import { formatEntered } from './formatEntered';

type PatientNotFound = Extract<LookupView, { outcome: 'patient_not_found' }>;

interface Props {
  view: PatientNotFound;
  /** The NHS number as the user entered it, shown when the view carries none. */
  entered: string;
  /** The trust's own numbers; empty when it set none. */
  trust: TrustContactsView;
}

export function PatientNotFoundResult({ view, entered, trust }: Props) {
  const number = view.nhs_number === '' ? formatEntered(entered) : view.nhs_number;
  return (
    <div className="app-result app-result--patient-not-found" data-testid="result-patient-not-found">
      <div className="app-patient-not-found">
        <h2 className="nhsuk-heading-m">No patient found with this NHS number</h2>
        <p className="nhsuk-body">
          The NHS demographics service has no patient with NHS number {number}.
        </p>
        <p className="nhsuk-body">
          <strong>The child protection check was not done.</strong> Check the NHS number and try
          again. If you cannot confirm who the patient is, follow your local safeguarding
          procedure.
        </p>
        <IfYouHaveConcerns
          trust={trust}
          headingLevel="h3"
          headingId="patient-not-found-concerns-heading"
        />
        <p className="nhsuk-body-s app-secondary-text nhsuk-u-margin-bottom-0">
          Checked at {view.checked_at}
        </p>
      </div>
    </div>
  );
}
