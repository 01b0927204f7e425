// The NHS header: the service name, and when signed in, who the user is and a sign-out action.
import { Header } from 'nhsuk-react-components';
import type { UserView } from '../backend';

export type AppPage = 'lookup' | 'review';

interface Props {
  user: UserView | null;
  onSignOut: () => void;
  /** The page shown, when the user may use more than one. */
  page: AppPage;
  onNavigate: (page: AppPage) => void;
  /** The organisation's display name from the trust's configuration, when it set one. */
  organisationDisplayName?: string | null;
}

const PAGES: { page: AppPage; label: string; allowed: (user: UserView) => boolean }[] = [
  { page: 'lookup', label: 'Check a patient', allowed: (user) => user.can_look_up },
  { page: 'review', label: 'Recent alerts at your organisation', allowed: (user) => user.can_review },
];

/** The trust's display name when set, else the role's organisation name, else its ODS code. */
function organisationName(user: UserView, displayName: string | null): string | null {
  if (displayName !== null && displayName.trim() !== '') return displayName;
  if (user.organisation_name !== '') return user.organisation_name;
  if (user.organisation_ods !== '') return `Organisation ${user.organisation_ods}`;
  return null;
}

export function AppHeader({
  user,
  onSignOut,
  page,
  onNavigate,
  organisationDisplayName = null,
}: Props) {
  const pages = user === null ? [] : PAGES.filter((entry) => entry.allowed(user));
  const organisation = user === null ? null : organisationName(user, organisationDisplayName);
  return (
    <Header service={{ text: 'CP-IS Viewer' }}>
      {user !== null && (
        <Header.Account aria-label="Your account">
          <Header.AccountItem icon>
            <span data-testid="account-name">{user.name}</span>
          </Header.AccountItem>
          <Header.AccountItem>
            <span data-testid="account-role">{user.role_name}</span>
          </Header.AccountItem>
          {organisation !== null && (
            <Header.AccountItem>
              <span data-testid="account-organisation">{organisation}</span>
            </Header.AccountItem>
          )}
          <Header.AccountItem
            as="button"
            type="button"
            data-testid="sign-out-button"
            onClick={onSignOut}
            formProps={{
              onSubmit: (event) => {
                event.preventDefault();
              },
            }}
          >
            Sign out
          </Header.AccountItem>
        </Header.Account>
      )}
      {pages.length > 1 && (
        <Header.Navigation aria-label="Pages">
          {pages.map((entry) => (
            <Header.NavigationItem
              key={entry.page}
              href={`#${entry.page}`}
              current={entry.page === page}
              data-testid={`nav-${entry.page}`}
              onClick={(event) => {
                event.preventDefault();
                onNavigate(entry.page);
              }}
            >
              {entry.label}
            </Header.NavigationItem>
          ))}
        </Header.Navigation>
      )}
    </Header>
  );
}
