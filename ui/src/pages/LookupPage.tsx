// The lookup page: one NHS number field, validated in Rust through the backend module.
import { useCallback, useRef, useState, type SyntheticEvent, type KeyboardEvent } from 'react';
import { Button, ErrorSummary, InsetText, TextInput } from 'nhsuk-react-components';
import { checkNhsNumber, type NhsNumberCheck } from '../backend';

const FIELD_ID = 'nhs-number';

type PageState =
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'checked'; check: NhsNumberCheck }
  | { kind: 'failed' };

export function LookupPage() {
  const [input, setInput] = useState('');
  const [state, setState] = useState<PageState>({ kind: 'idle' });
  const fieldRef = useRef<HTMLInputElement>(null);
  // Each submission gets a number; an answer for an earlier one is never shown.
  const latestRequest = useRef(0);

  const clear = useCallback(() => {
    latestRequest.current += 1;
    setInput('');
    setState({ kind: 'idle' });
    fieldRef.current?.focus();
  }, []);

  const submit = useCallback(
    async (event: SyntheticEvent) => {
      event.preventDefault();
      latestRequest.current += 1;
      const request = latestRequest.current;
      setState({ kind: 'checking' });
      try {
        const check = await checkNhsNumber(input);
        if (request !== latestRequest.current) return;
        setState({ kind: 'checked', check });
        if (check.status === 'invalid') fieldRef.current?.select();
      } catch {
        if (request !== latestRequest.current) return;
        setState({ kind: 'failed' });
      }
    },
    [input],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLInputElement>) => {
      if (event.key === 'Escape') clear();
    },
    [clear],
  );

  const invalid = state.kind === 'checked' && state.check.status === 'invalid' ? state.check : null;
  const valid = state.kind === 'checked' && state.check.status === 'valid' ? state.check : null;

  return (
    <>
      {invalid !== null && (
        <ErrorSummary disableAutoFocus>
          <ErrorSummary.Title>There is a problem</ErrorSummary.Title>
          <ErrorSummary.List>
            <ErrorSummary.ListItem href={`#${FIELD_ID}`}>{invalid.message}</ErrorSummary.ListItem>
          </ErrorSummary.List>
        </ErrorSummary>
      )}
      <h1>Check child protection information</h1>
      <form
        noValidate
        onSubmit={(event) => {
          void submit(event);
        }}
      >
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
          error={invalid?.message}
          aria-invalid={invalid !== null}
          onChange={(event) => {
            setInput(event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <Button type="submit" disabled={state.kind === 'checking'}>
          Check
        </Button>
      </form>
      <div aria-live="polite">
        {state.kind === 'checking' && <p className="nhsuk-body">Checking…</p>}
        {valid !== null && (
          <InsetText data-testid="nhs-number-valid">
            <p>
              <strong>{valid.formatted}</strong> is a valid NHS number.
            </p>
          </InsetText>
        )}
        {state.kind === 'failed' && (
          <InsetText data-testid="nhs-number-check-failed">
            <p>The NHS number could not be checked. Try again.</p>
          </InsetText>
        )}
      </div>
    </>
  );
}
