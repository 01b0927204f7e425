// A phone number as a tel: link with a copy button.
import { CopyButton } from './CopyButton';

interface Props {
  number: string;
  /** What the number is, for screen readers: "emergency duty team number". */
  what: string;
}

/** The number without spaces or punctuation, for the tel: link. */
export function telHref(number: string): string {
  return `tel:${number.replace(/[^0-9+]/g, '')}`;
}

export function PhoneNumber({ number, what }: Props) {
  return (
    <span className="app-phone">
      <a className="app-phone__link" href={telHref(number)}>
        {number}
      </a>{' '}
      <CopyButton text={number} what={what} />
    </span>
  );
}
