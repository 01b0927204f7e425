// Signed in with a role that cannot look anyone up: say why, plainly, and offer no lookup field.
import type { UserView } from '../backend';

export function NoPermissionPage({ user }: { user: UserView }) {
  return (
    <div data-testid="no-permission">
      <h1>You cannot check child protection information</h1>
      <p className="nhsuk-body">
        {user.cannot_look_up_reason ?? 'Your selected role does not allow child protection lookups.'}
      </p>
      <p className="nhsuk-body">
        You are signed in as {user.role_name}. To check, sign out and sign in with a role that
        allows it. Your Registration Authority can tell you which roles you have.
      </p>
    </div>
  );
}
