// An incident banner for when the audit record of a lookup could not be written. The result is
// still shown; the banner stays until the user dismisses it.
import { NotificationBanner } from 'nhsuk-react-components';

interface Props {
  message: string;
  onDismiss: () => void;
}

export function AuditWarningBanner({ message, onDismiss }: Props) {
  return (
    <NotificationBanner
      className="app-incident-banner"
      data-testid="audit-warning"
      role="alert"
      titleId="audit-warning-title"
      disableAutoFocus
    >
      <NotificationBanner.Title id="audit-warning-title">Incident</NotificationBanner.Title>
      <NotificationBanner.Heading>This lookup may not have been audited</NotificationBanner.Heading>
      <p>{message}</p>
      <p>Report this to your IT service desk as an incident. You can still use the result below.</p>
      <button
        type="button"
        className="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0"
        data-testid="audit-warning-dismiss"
        onClick={onDismiss}
      >
        Dismiss{' '}
        <span className="nhsuk-u-visually-hidden">the incident message</span>
      </button>
    </NotificationBanner>
  );
}
