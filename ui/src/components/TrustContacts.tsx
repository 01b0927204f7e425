// The trust's own words where a clinician needs them, from the trust's configuration: its
// downtime procedure and its safeguarding team's numbers. Nothing at all when it set none, so
// there is never an empty heading.
import { SummaryList } from 'nhsuk-react-components';
import type { TrustContactsView } from '../backend';
import { PhoneNumber } from './PhoneNumber';

type HeadingLevel = 'h2' | 'h3';

/** What the screens use before the settings arrive, or when they cannot be read. */
export const NO_TRUST_CONTACTS: TrustContactsView = {
  downtime_procedure: [],
  safeguarding_in_hours: null,
  safeguarding_in_hours_times: null,
  safeguarding_out_of_hours: null,
};

/** Whether the trust configured at least one safeguarding number. */
export function hasSafeguardingNumbers(trust: TrustContactsView): boolean {
  return trust.safeguarding_in_hours !== null || trust.safeguarding_out_of_hours !== null;
}

/** The trust's downtime procedure, one paragraph per entry, under its own heading. */
export function DowntimeProcedure({
  paragraphs,
  headingLevel = 'h3',
}: {
  paragraphs: string[];
  headingLevel?: HeadingLevel;
}) {
  const shown = paragraphs.filter((paragraph) => paragraph.trim() !== '');
  if (shown.length === 0) return null;
  const Heading = headingLevel;
  return (
    <div className="app-trust-procedure" data-testid="trust-downtime-procedure">
      <Heading className="nhsuk-heading-s">Your local downtime procedure</Heading>
      {shown.map((paragraph, index) => (
        <p key={index} className="nhsuk-body">
          {paragraph}
        </p>
      ))}
    </div>
  );
}

/** The safeguarding team's in-hours and out-of-hours numbers, each to call or copy. */
export function SafeguardingNumbers({ trust }: { trust: TrustContactsView }) {
  const inHours = trust.safeguarding_in_hours;
  const outOfHours = trust.safeguarding_out_of_hours;
  if (inHours === null && outOfHours === null) return null;
  return (
    <SummaryList className="app-trust-numbers" data-testid="trust-safeguarding">
      {inHours !== null && (
        <SummaryList.Row>
          <SummaryList.Key>In hours</SummaryList.Key>
          <SummaryList.Value>
            <PhoneNumber phone={inHours} what="safeguarding team in-hours number" />
            {trust.safeguarding_in_hours_times !== null &&
              trust.safeguarding_in_hours_times.trim() !== '' && (
                <p className="nhsuk-body-s nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-0">
                  {trust.safeguarding_in_hours_times}
                </p>
              )}
          </SummaryList.Value>
        </SummaryList.Row>
      )}
      {outOfHours !== null && (
        <SummaryList.Row>
          <SummaryList.Key>Out of hours</SummaryList.Key>
          <SummaryList.Value>
            <PhoneNumber phone={outOfHours} what="safeguarding team out-of-hours number" />
          </SummaryList.Value>
        </SummaryList.Row>
      )}
    </SummaryList>
  );
}

/** "If you have concerns", with the safeguarding team's numbers; nothing without numbers. */
export function IfYouHaveConcerns({
  trust,
  headingLevel,
  headingId,
}: {
  trust: TrustContactsView;
  headingLevel: HeadingLevel;
  headingId: string;
}) {
  if (!hasSafeguardingNumbers(trust)) return null;
  const Heading = headingLevel;
  return (
    <section className="app-trust-concerns" aria-labelledby={headingId} data-testid="trust-concerns">
      <Heading id={headingId} className={headingLevel === 'h2' ? 'nhsuk-heading-m' : 'nhsuk-heading-s'}>
        If you have concerns
      </Heading>
      <p className="nhsuk-body">Phone your safeguarding team.</p>
      <SafeguardingNumbers trust={trust} />
    </section>
  );
}
