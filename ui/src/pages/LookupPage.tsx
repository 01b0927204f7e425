// The lookup page: one NHS number field and the result of the latest lookup, and nothing older.
// Patient data lives only in this component's state, so unmounting it (lock, sign-out) clears it.
import { useCallback, useEffect, useRef, useState, type SyntheticEvent, type KeyboardEvent } from 'react';
import { Button, ErrorSummary, InsetText, TextInput } from 'nhsuk-react-components';
import {
  assertNever,
  ipcErrorMessage,
  lookup,
  type CouldNotCheckCode,
  type LookupResponse,
  type TrustContactsView,
} from '../backend';
import { AuditWarningBanner } from '../components/AuditWarningBanner';
import { CheckingMessage } from '../components/CheckingMessage';
import { NO_TRUST_CONTACTS } from '../components/TrustContacts';
import { CouldNotCheckResult } from '../results/CouldNotCheckResult';
import { NoPlanResult } from '../results/NoPlanResult';
import { PatientNotFoundResult } from '../results/PatientNotFoundResult';
import { PlanFoundResult } from '../results/PlanFoundResult';
import { markLookupAnswered, markLookupStart, measureLookupRendered } from '../pageTiming';

export const FIELD_ID = 'nhs-number';

type Answered = Exclude<LookupResponse['view'], { outcome: 'superseded' | 'invalid_nhs_number' }>;

type PageState =
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'invalid'; message: string }
  | { kind: 'answered'; entered: string; lookupId: number; view: Answered }
  | { kind: 'failed'; entered: string; message: string }
  | { kind: 'not_finished' };

interface Props {
  /** Whether a lookup tells the local authority (an unscheduled access). */
  unscheduled?: boolean;
  /** Called after every answer, so the status bar can refresh. */
  onLookupFinished?: () => void;
  /** Called when a lookup says the user must sign in again. */
  onSignInRequired?: () => void;
  /** The trust's downtime procedure and safeguarding numbers, for the results. */
  trust?: TrustContactsView;
}

/** Whether a could-not-check answer means the user must sign in again. */
function needsSignInAgain(code: CouldNotCheckCode): boolean {
  switch (code) {
    case 'sign_in_required':
      return true;
    case 'timeout':
    case 'service_unreachable':
    case 'service_error':
    case 'access_denied':
    case 'invalid_response':
    case 'response_for_another_patient':
    case 'demographics_unavailable':
    case 'role_not_permitted':
      return false;
    default:
      return assertNever(code);
  }
}

/** A short, screen-reader summary of the state; the full result is on the page. */
function announcement(state: PageState): string {
  switch (state.kind) {
    case 'idle':
      return '';
    case 'checking':
      return 'Checking…';
    case 'invalid':
      return 'There is a problem with the NHS number.';
    case 'failed':
      return 'The child protection check did not happen.';
    case 'not_finished':
      return 'The check did not finish.';
    case 'answered':
      switch (state.view.outcome) {
        case 'plan_found':
          return 'Child protection information found.';
        case 'no_plan':
          return 'No plans recorded in CP-IS.';
        case 'could_not_check':
          return 'The child protection check did not happen.';
        case 'patient_not_found':
          return 'No patient found with this NHS number.';
        default:
          return assertNever(state.view);
      }
    default:
      return assertNever(state);
  }
}

export function LookupPage({
  unscheduled = true,
  onLookupFinished,
  onSignInRequired,
  trust = NO_TRUST_CONTACTS,
}: Props) {
  const [input, setInput] = useState('');
  const [state, setState] = useState<PageState>({ kind: 'idle' });
  const [auditWarning, setAuditWarning] = useState<string | null>(null);
  const fieldRef = useRef<HTMLInputElement>(null);
  // Each lookup gets a number; an answer for an earlier one is never shown.
  const latestRequest = useRef(0);

  const focusField = useCallback(() => {
    fieldRef.current?.focus();
    // Selected, so the next typed or scanned number replaces the last one.
    fieldRef.current?.select();
  }, []);

  const clear = useCallback(() => {
    latestRequest.current += 1;
    setInput('');
    setState({ kind: 'idle' });
    fieldRef.current?.focus();
  }, []);

  const run = useCallback(
    async (entered: string) => {
      latestRequest.current += 1;
      const request = latestRequest.current;
      markLookupStart();
      // The previous result goes at once, before anything is awaited.
      setState({ kind: 'checking' });
      let response: LookupResponse;
      try {
        response = await lookup(entered);
        markLookupAnswered();
      } catch (error) {
        if (request !== latestRequest.current) return;
        setState({
          kind: 'failed',
          entered,
          message: ipcErrorMessage(error, 'The app could not run the check.'),
        });
        focusField();
        onLookupFinished?.();
        return;
      }
      // An audit incident is shown even for an answer that is otherwise dropped: it is about
      // the audit queue, not the patient, and must not go unreported.
      if (response.audit_warning !== null) setAuditWarning(response.audit_warning);
      if (request !== latestRequest.current) return;
      const view = response.view;
      if (view.outcome === 'superseded') {
        setState({ kind: 'not_finished' });
      } else if (view.outcome === 'invalid_nhs_number') {
        setState({ kind: 'invalid', message: view.message });
      } else {
        setState({ kind: 'answered', entered, lookupId: response.lookup_id, view });
      }
      focusField();
      onLookupFinished?.();
      if (view.outcome === 'could_not_check' && needsSignInAgain(view.reason_code)) {
        onSignInRequired?.();
      }
    },
    [focusField, onLookupFinished, onSignInRequired],
  );

  // The result is in the DOM once this effect runs; the measure is taken on the next frame.
  useEffect(() => {
    if (state.kind !== 'idle' && state.kind !== 'checking') measureLookupRendered();
  }, [state]);

  const onSubmit = useCallback(
    (event: SyntheticEvent) => {
      event.preventDefault();
      void run(input);
    },
    [input, run],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLFormElement>) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        clear();
      }
    },
    [clear],
  );

  const invalid = state.kind === 'invalid' ? state.message : null;

  return (
    <>
      {auditWarning !== null && (
        <AuditWarningBanner
          message={auditWarning}
          onDismiss={() => {
            setAuditWarning(null);
            fieldRef.current?.focus();
          }}
        />
      )}
      {invalid !== null && (
        <ErrorSummary disableAutoFocus>
          <ErrorSummary.Title>There is a problem</ErrorSummary.Title>
          <ErrorSummary.List>
            <ErrorSummary.ListItem href={`#${FIELD_ID}`}>{invalid}</ErrorSummary.ListItem>
          </ErrorSummary.List>
        </ErrorSummary>
      )}
      <h1 className="nhsuk-heading-l app-lookup-heading">Check child protection information</h1>
      <form noValidate onSubmit={onSubmit} onKeyDown={onKeyDown} className="app-lookup-form">
        <TextInput
          ref={fieldRef}
          id={FIELD_ID}
          name="nhsNumber"
          label="NHS number"
          labelProps={{ size: 's' }}
          hint="10 digits, for example 999 000 0018"
          width={10}
          inputMode="numeric"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={input}
          error={invalid ?? undefined}
          aria-invalid={invalid !== null}
          onChange={(event) => {
            setInput(event.target.value);
            // A shown result must always belong to the number in the field.
            if (state.kind !== 'idle' && state.kind !== 'invalid') {
              latestRequest.current += 1;
              setState({ kind: 'idle' });
            }
          }}
          inputWrapperProps={{ className: 'app-lookup-row' }}
          formGroupProps={{
            // The note beside the button says what pressing it does, on the same line where
            // there is room, so that the result starts high on the first screen.
            afterInput: (
              <>
                <Button type="submit" disabled={state.kind === 'checking'}>
                  Check
                </Button>
                <p className="nhsuk-body-s app-secondary-text app-lookup-note" data-testid="notify-note">
                  {unscheduled
                    ? 'When you check, CP-IS tells the local authority that this person attended.'
                    : 'Your role checks without telling the local authority.'}
                </p>
              </>
            ),
          }}
        />
      </form>
      <div role="status" className="app-lookup-status" data-testid="lookup-status">
        {state.kind === 'checking' ? (
          <CheckingMessage />
        ) : (
          <span className="nhsuk-u-visually-hidden">{announcement(state)}</span>
        )}
      </div>
      <Result
        state={state}
        trust={trust}
        onRetry={(entered) => {
          void run(entered);
        }}
      />
    </>
  );
}

interface ResultProps {
  state: PageState;
  trust: TrustContactsView;
  onRetry: (entered: string) => void;
}

function Result({ state, trust, onRetry }: ResultProps) {
  switch (state.kind) {
    case 'idle':
    case 'checking':
    case 'invalid':
      return null;
    case 'not_finished':
      return (
        <InsetText data-testid="result-not-finished">
          <p>The check did not finish because another one started. Check the NHS number again.</p>
        </InsetText>
      );
    case 'failed':
      return (
        <CouldNotCheckResult
          reason={state.message}
          attemptedAt={null}
          entered={state.entered}
          trust={trust}
          onRetry={() => {
            onRetry(state.entered);
          }}
        />
      );
    case 'answered': {
      const view = state.view;
      switch (view.outcome) {
        case 'plan_found':
          return <PlanFoundResult key={state.lookupId} view={view} lookupId={state.lookupId} />;
        case 'no_plan':
          return <NoPlanResult view={view} trust={trust} />;
        case 'could_not_check':
          return (
            <CouldNotCheckResult
              reason={view.reason}
              attemptedAt={view.attempted_at}
              entered={state.entered}
              trust={trust}
              supportReference={view.support_reference}
              onRetry={() => {
                onRetry(state.entered);
              }}
            />
          );
        case 'patient_not_found':
          return <PatientNotFoundResult view={view} entered={state.entered} trust={trust} />;
        default:
          return assertNever(view);
      }
    }
    default:
      return assertNever(state);
  }
}
