// A valid answer that CP-IS holds no plan: calm, and clear about what it does not mean. When the
// trust set its safeguarding numbers, they follow under "If you have concerns".
import type { LookupView, TrustContactsView } from '../backend';
import { PatientBanner } from '../components/PatientBanner';
import { IfYouHaveConcerns } from '../components/TrustContacts';

type NoPlan = Extract<LookupView, { outcome: 'no_plan' }>;

interface Props {
  view: NoPlan;
  /** The trust's own numbers; empty when it set none. */
  trust: TrustContactsView;
}

export function NoPlanResult({ view, trust }: Props) {
  return (
    <div className="app-result app-result--no-plan" data-testid="result-no-plan">
      <PatientBanner patient={view.patient} checkedAt={view.checked_at} />
      <div className="nhsuk-card app-no-plan">
        <div className="nhsuk-card__content">
          <h2 className="nhsuk-heading-m">No plans recorded in CP-IS</h2>
          <p className="nhsuk-body">
            CP-IS has no child protection plan, looked after child or unborn child protection plan
            for this NHS number.
          </p>
          <p className="nhsuk-body nhsuk-u-margin-bottom-0">
            This does not mean there are no concerns. If you have concerns, follow your local
            safeguarding procedure.
          </p>
        </div>
      </div>
      <IfYouHaveConcerns trust={trust} headingLevel="h2" headingId="no-plan-concerns-heading" />
    </div>
  );
}
