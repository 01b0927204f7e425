// A phone number as Rust read it: a tel: link when it is a valid number, its extension said in
// words, and a copy button. A number Rust could not read is shown as given, with no link.
import type { PhoneView } from '../backend';
import { CopyButton } from './CopyButton';

interface Props {
  phone: PhoneView;
  /** What the number is, for screen readers: "emergency duty team number". */
  what: string;
}

/** Only a `tel:` URI of `+` and digits is ever a link's address. */
const TEL_URI = /^tel:\+[0-9]+$/;

export function PhoneNumber({ phone, what }: Props) {
  const href = phone.tel !== null && TEL_URI.test(phone.tel) ? phone.tel : null;
  return (
    <span className="app-phone">
      <span className="app-phone__number">
        {href !== null ? (
          <a className="app-phone__link" href={href}>
            {phone.display}
          </a>
        ) : (
          <span className="app-phone__text" data-testid="phone-not-linked">
            {phone.display}
          </span>
        )}
        {phone.extension !== null && (
          <span className="app-phone__extension" data-testid="phone-extension">
            {' '}
            extension {phone.extension}
          </span>
        )}
      </span>{' '}
      <CopyButton text={phone.display} what={what} />
    </span>
  );
}
