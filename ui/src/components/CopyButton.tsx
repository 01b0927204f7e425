// A button that copies a phone number (or a support reference) to the clipboard and says whether
// it worked.
import { useEffect, useRef, useState } from 'react';

interface Props {
  /** The text to copy. */
  text: string;
  /** What is copied, for screen readers: "office hours number". */
  what: string;
  /** The button's visible words; "Copy" unless given. */
  label?: string;
  /** What to say when copying failed; by default, to copy the number by hand. */
  failedMessage?: string;
}

type CopyState = 'idle' | 'copied' | 'failed';

export function CopyButton({
  text,
  what,
  label = 'Copy',
  failedMessage = 'Could not copy. Select the number and copy it yourself.',
}: Props) {
  const [state, setState] = useState<CopyState>('idle');
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  const copy = async () => {
    try {
      // The clipboard API may be missing in some webviews: treat that as a failure.
      const clipboard = (navigator as { clipboard?: Clipboard }).clipboard;
      if (clipboard === undefined) throw new Error('no clipboard');
      await clipboard.writeText(text);
      if (live.current) setState('copied');
    } catch {
      if (live.current) setState('failed');
    }
  };

  return (
    <span className="app-copy">
      <button
        type="button"
        className="nhsuk-button nhsuk-button--secondary nhsuk-button--small app-copy__button"
        onClick={() => {
          void copy();
        }}
      >
        {label}{' '}
        <span className="nhsuk-u-visually-hidden">{what}</span>
      </button>
      <span className="app-copy__status" role="status">
        {state === 'copied' && 'Copied'}
        {state === 'failed' && failedMessage}
      </span>
    </span>
  );
}
