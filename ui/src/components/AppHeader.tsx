// The NHS header: the service name, and when signed in, who the user is and a sign-out action.
import { Header } from 'nhsuk-react-components';
import type { UserView } from '../backend';

interface Props {
  user: UserView | null;
  onSignOut: () => void;
}

export function AppHeader({ user, onSignOut }: Props) {
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
          {user.organisation_ods !== '' && (
            <Header.AccountItem>
              <span data-testid="account-organisation">
                Organisation {user.organisation_ods}
              </span>
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
    </Header>
  );
}
