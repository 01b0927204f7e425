// Follow-up after a plan was found: record that the local authority was contacted, how and when.
// Rust audits the record like a view.
import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { Button, ErrorSummary, Radios, TextInput } from 'nhsuk-react-components';
import { ipcErrorMessage, recordLaContact, type ContactMethod } from '../backend';

interface Props {
  lookupId: number;
  /** Whether any plan names a social worker, so "Phoned the social worker" makes sense. */
  hasSocialWorker: boolean;
}

const METHODS: { value: ContactMethod; label: string }[] = [
  { value: 'phone_office_hours', label: 'Phoned the office hours number' },
  { value: 'phone_emergency_duty_team', label: 'Phoned the emergency duty team' },
  { value: 'phone_social_worker', label: 'Phoned the social worker' },
  { value: 'secure_email', label: 'Sent a secure email' },
];

const METHOD_NAME = 'la-contact-method';
const TIME_ID = 'la-contact-time';

/** `14:30`, `9:05` or `09.05` as `HH:MM`; null when it is not a time of day. */
export function normaliseTime(input: string): string | null {
  const match = /^\s*([01]?\d|2[0-3])[:.]([0-5]\d)\s*$/.exec(input);
  if (match === null) return null;
  const [, hours = '', minutes = ''] = match;
  return `${hours.padStart(2, '0')}:${minutes}`;
}

/** The UK clock (GMT or BST from the tz rules), whatever time zone the computer is set to. */
const UK_CLOCK = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** Minutes since midnight on the UK clock at `now`. */
function ukMinutesOfDay(now: Date): number {
  const parts = UK_CLOCK.formatToParts(now);
  const part = (type: 'hour' | 'minute') =>
    Number(parts.find((found) => found.type === type)?.value ?? '0');
  return part('hour') * 60 + part('minute');
}

/**
 * Whether `HH:MM` on the UK clock today is later than `now` (the contact cannot have happened
 * yet). Rust decides again, on the same clock, with the days the clocks change handled.
 */
export function isLaterToday(hhmm: string, now: Date): boolean {
  const [hours = 0, minutes = 0] = hhmm.split(':').map(Number);
  return hours * 60 + minutes > ukMinutesOfDay(now);
}

type SendState =
  | { kind: 'editing' }
  | { kind: 'sending' }
  | { kind: 'recorded' }
  | { kind: 'failed'; message: string };

interface Errors {
  method?: string;
  time?: string;
}

export function LaContactForm({ lookupId, hasSocialWorker }: Props) {
  const [method, setMethod] = useState<ContactMethod | null>(null);
  const [time, setTime] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [send, setSend] = useState<SendState>({ kind: 'editing' });
  const done = useRef<HTMLDivElement>(null);

  // The form goes once the contact is recorded: focus moves to the confirmation, not the page.
  useEffect(() => {
    if (send.kind === 'recorded') done.current?.focus();
  }, [send.kind]);

  const methods = METHODS.filter(
    (option) => hasSocialWorker || option.value !== 'phone_social_worker',
  );

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    const found: Errors = {};
    if (method === null) found.method = 'Select how you contacted the local authority';
    const contactedAt = time.trim() === '' ? null : normaliseTime(time);
    if (time.trim() !== '' && contactedAt === null) {
      found.time = 'Enter the time as hours and minutes, for example 14:30';
    } else if (contactedAt !== null && isLaterToday(contactedAt, new Date())) {
      found.time = 'The time of contact must be now or earlier today';
    }
    setErrors(found);
    if (method === null || found.time !== undefined) return;
    setSend({ kind: 'sending' });
    try {
      await recordLaContact({ lookup_id: lookupId, method, contacted_at: contactedAt });
      setSend({ kind: 'recorded' });
    } catch (error) {
      setSend({
        kind: 'failed',
        message: ipcErrorMessage(error, 'Something went wrong.'),
      });
    }
  };

  if (send.kind === 'recorded') {
    const chosen = METHODS.find((option) => option.value === method);
    return (
      <section className="app-la-contact" aria-labelledby="la-contact-heading" data-testid="la-contact">
        <h2 id="la-contact-heading" className="nhsuk-heading-m">
          Contact with the local authority
        </h2>
        <div
          ref={done}
          tabIndex={-1}
          className="nhsuk-inset-text app-la-contact__done"
          role="status"
          data-testid="la-contact-recorded"
        >
          <p>
            <strong>Contact recorded.</strong> {chosen?.label}
            {time.trim() === '' ? '.' : ` at ${normaliseTime(time) ?? ''}.`}
          </p>
        </div>
        <button
          type="button"
          className="nhsuk-button nhsuk-button--secondary"
          onClick={() => {
            setMethod(null);
            setTime('');
            setErrors({});
            setSend({ kind: 'editing' });
          }}
        >
          Record another contact
        </button>
      </section>
    );
  }

  const hasErrors = errors.method !== undefined || errors.time !== undefined;
  return (
    <section className="app-la-contact" aria-labelledby="la-contact-heading" data-testid="la-contact">
      <h2 id="la-contact-heading" className="nhsuk-heading-m">
        Record that you contacted the local authority
      </h2>
      {hasErrors && (
        <ErrorSummary>
          <ErrorSummary.Title>There is a problem</ErrorSummary.Title>
          <ErrorSummary.List>
            {errors.method !== undefined && (
              <ErrorSummary.ListItem href={`#${METHOD_NAME}-1`}>{errors.method}</ErrorSummary.ListItem>
            )}
            {errors.time !== undefined && (
              <ErrorSummary.ListItem href={`#${TIME_ID}`}>{errors.time}</ErrorSummary.ListItem>
            )}
          </ErrorSummary.List>
        </ErrorSummary>
      )}
      <form
        noValidate
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        <Radios
          name={METHOD_NAME}
          legend="How did you contact them?"
          legendProps={{ size: 's' }}
          error={errors.method}
        >
          {methods.map((option) => (
            <Radios.Item
              key={option.value}
              value={option.value}
              checked={method === option.value}
              onChange={() => {
                setMethod(option.value);
              }}
            >
              {option.label}
            </Radios.Item>
          ))}
        </Radios>
        <TextInput
          id={TIME_ID}
          name="la-contact-time"
          label="Time of contact (optional)"
          labelProps={{ size: 's' }}
          hint="Use the 24-hour clock, for example 14:30. Leave it blank to use the time now."
          width={5}
          inputMode="numeric"
          autoComplete="off"
          spellCheck={false}
          value={time}
          error={errors.time}
          onChange={(event) => {
            setTime(event.target.value);
          }}
        />
        {send.kind === 'failed' && (
          <div className="app-la-contact__failed" role="alert">
            <p className="nhsuk-body">
              <strong>The contact was not recorded.</strong> {send.message} Try again.
            </p>
          </div>
        )}
        <Button
          type="submit"
          secondary
          disabled={send.kind === 'sending'}
          data-testid="la-contact-submit"
        >
          {send.kind === 'sending' ? 'Recording…' : 'Record contact'}
        </Button>
      </form>
    </section>
  );
}
