// A phone number as a tel: link with a copy button.
import { CopyButton } from './CopyButton';

interface Props {
  /** The number as shown and copied: "01632 960999". */
  number: string;
  /** What the number is, for screen readers: "emergency duty team number". */
  what: string;
  /**
   * The digits to dial, when the backend gives them (a trust's numbers: an optional leading
   * `+`, then digits). Otherwise they come from `number`.
   */
  tel?: string;
}

/** The number without spaces or punctuation, for the tel: link. */
export function telHref(number: string): string {
  return `tel:${number.replace(/[^0-9+]/g, '')}`;
}

export function PhoneNumber({ number, what, tel }: Props) {
  return (
    <span className="app-phone">
      <a className="app-phone__link" href={telHref(tel ?? number)}>
        {number}
      </a>{' '}
      <CopyButton text={number} what={what} />
    </span>
  );
}
