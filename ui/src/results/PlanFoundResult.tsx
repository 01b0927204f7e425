// A plan was found: the warning callout naming each plan with its local authority's numbers (on
// the first screen, without scrolling), then each plan's details, the access history and the
// follow-up form. Text says what was found; colour only adds to it.
import { WarningCallout } from 'nhsuk-react-components';
import type { LookupView, PlanView } from '../backend';
import { AccessHistory } from '../components/AccessHistory';
import { LaContactForm } from '../components/LaContactForm';
import { PatientBanner } from '../components/PatientBanner';
import { LaPhones, PlanDetails, PlanStatusTag } from '../components/PlanDetails';

/** "Started 5 January 2026. No end date." in words that fit the kind of plan. */
export function planDates(plan: PlanView): string {
  if (plan.plan_type === 'unborn_child_protection_plan') {
    return `Due date ${plan.end ?? 'not known'}.`;
  }
  const starts = plan.status.code === 'starts' ? 'Starts' : 'Started';
  const started = plan.start === null ? 'Start date not given.' : `${starts} ${plan.start}.`;
  if (plan.end === null) return `${started} No end date.`;
  return `${started} ${plan.status.code === 'ended' ? 'Ended' : 'Ends'} ${plan.end}.`;
}

type PlanFound = Extract<LookupView, { outcome: 'plan_found' }>;

interface Props {
  view: PlanFound;
  lookupId: number;
}

export function PlanFoundResult({ view, lookupId }: Props) {
  const count = view.plans.length;
  const isUnborn = (plan: PlanView) => plan.plan_type === 'unborn_child_protection_plan';
  const unborn = view.plans.some(isUnborn);
  // At a maternity booking the only plan is usually the unborn one: say so in the heading.
  const heading = view.plans.every(isUnborn)
    ? 'Unborn child protection plan found'
    : 'Child protection information found';
  return (
    <div className="app-result app-result--plan-found" data-testid="result-plan-found">
      <PatientBanner patient={view.patient} checkedAt={view.checked_at} />
      <WarningCallout className="app-plan-callout" data-testid="plan-callout">
        <WarningCallout.Heading headingLevel="h2">{heading}</WarningCallout.Heading>
        <ul
          className="app-plan-callout__list"
          aria-label={`CP-IS has ${count === 1 ? 'a record' : `${String(count)} records`} for this NHS number`}
        >
          {view.plans.map((plan, index) => (
            <li key={`${plan.plan_type ?? 'unknown'}-${String(index)}`}>
              <p className="app-plan-callout__plan">
                <strong>{plan.plan_name}</strong> <PlanStatusTag plan={plan} /> {planDates(plan)}
              </p>
              <LaPhones plan={plan} />
            </li>
          ))}
        </ul>
        {unborn && (
          <p>
            An unborn child protection plan is about the pregnancy. It is held against the
            mother&apos;s NHS number.
          </p>
        )}
        <p className="nhsuk-body-s app-plan-callout__source">
          The numbers are from the local authority&apos;s CP-IS record.
        </p>
      </WarningCallout>
      {view.plans.map((plan, index) => (
        <PlanDetails key={`${plan.plan_type ?? 'unknown'}-${String(index)}`} plan={plan} index={index} />
      ))}
      <AccessHistory history={view.access_history} unavailable={view.access_history_unavailable} />
      <LaContactForm
        lookupId={lookupId}
        hasSocialWorker={view.plans.some((plan) => plan.social_worker !== null)}
      />
    </div>
  );
}
