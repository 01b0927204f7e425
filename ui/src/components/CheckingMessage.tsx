// "Checking…" at once, and after a few seconds a word that the answer is still coming (Rust
// ends every lookup within its deadline, so this never spins for ever).
import { useEffect, useState } from 'react';

export const SLOW_AFTER_MS = 2_000;

export function CheckingMessage() {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSlow(true);
    }, SLOW_AFTER_MS);
    return () => {
      clearTimeout(timer);
    };
  }, []);
  return (
    <p className="nhsuk-body app-checking" data-testid="checking">
      Checking…
      {slow && (
        <span className="app-checking__slow" data-testid="checking-slow">
          {' '}
          This is taking longer than usual. The answer will come in a few seconds.
        </span>
      )}
    </p>
  );
}
