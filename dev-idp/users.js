// Synthetic users of the development identity provider, shaped like NHS Care Identity Service 2
// accounts: a `selected_roleid` and `nhsid_nrbac_roles`, a list of
// `{ person_roleid, org_code, role_code, role_name, activity_codes }`.
//
// Every name, ODS code and role id here is invented. Nothing is a real person or organisation.

/** View CP-IS and notify the local authority (unscheduled care settings). */
export const ACTIVITY_VIEW_AND_NOTIFY = 'B0107';
/** View CP-IS without notifying (scheduled care settings). */
export const ACTIVITY_VIEW_SILENTLY = 'B0170';
/**
 * Review the alerts seen at the user's organisation (safeguarding named nurse). Placeholder code
 * chosen for this project; keep in step with crates/cpis-service.
 */
export const ACTIVITY_SAFEGUARDING_REVIEW = 'B1234';
/**
 * Upload plans and read Access to Service Notifications (local authority users). Placeholder code
 * chosen for this project; keep in step with crates/cpis-service.
 */
export const ACTIVITY_LOCAL_AUTHORITY = 'B1235';

function role(personRoleId, orgCode, roleCode, roleName, activityCodes) {
  return {
    person_roleid: personRoleId,
    org_code: orgCode,
    role_code: roleCode,
    role_name: roleName,
    activity_codes: activityCodes,
  };
}

/**
 * Users by login id. `roles` is the user's full list; `selected` is the `person_roleid` the user
 * has selected (CIS2 asks at sign-in), or null when the user has no role.
 */
export const USERS = {
  'ed-nurse': {
    sub: '900000000001',
    given_name: 'Tess',
    family_name: 'Triage-Test',
    organisation: { code: 'ZZ1ED', name: 'Northshire General Hospital (synthetic)' },
    roles: [
      role('555000000101', 'ZZ1ED', 'R8001', '"Clinical":"Clinical Provision":"Nurse Access Role"', [
        ACTIVITY_VIEW_AND_NOTIFY,
      ]),
    ],
    selected: '555000000101',
  },
  midwife: {
    sub: '900000000002',
    given_name: 'Maya',
    family_name: 'Midwife-Test',
    organisation: { code: 'ZZ2MU', name: 'Northshire Maternity Unit (synthetic)' },
    roles: [
      role('555000000201', 'ZZ2MU', 'R8002', '"Clinical":"Clinical Provision":"Midwife Access Role"', [
        ACTIVITY_VIEW_AND_NOTIFY,
      ]),
    ],
    selected: '555000000201',
  },
  'named-nurse': {
    sub: '900000000003',
    given_name: 'Nia',
    family_name: 'Safeguard-Test',
    organisation: { code: 'ZZ1ED', name: 'Northshire General Hospital (synthetic)' },
    roles: [
      role(
        '555000000301',
        'ZZ1ED',
        'R8003',
        '"Clinical":"Clinical Provision":"Safeguarding Named Nurse Role"',
        [ACTIVITY_VIEW_AND_NOTIFY, ACTIVITY_SAFEGUARDING_REVIEW],
      ),
    ],
    selected: '555000000301',
  },
  'scheduled-care': {
    sub: '900000000004',
    given_name: 'Sam',
    family_name: 'Scheduled-Test',
    organisation: { code: 'ZZ3GP', name: 'Southdale Health Visiting Team (synthetic)' },
    roles: [
      role('555000000401', 'ZZ3GP', 'R8004', '"Clinical":"Clinical Provision":"Health Visitor Access Role"', [
        ACTIVITY_VIEW_SILENTLY,
      ]),
    ],
    selected: '555000000401',
  },
  'la-user': {
    sub: '900000000005',
    given_name: 'Lee',
    family_name: 'Council-Test',
    organisation: { code: 'ZZ9LA', name: 'Northshire County Council (synthetic)' },
    roles: [
      role('555000000501', 'ZZ9LA', 'R8005', '"Admin":"Local Authority":"Social Care Admin Role"', [
        ACTIVITY_LOCAL_AUTHORITY,
      ]),
    ],
    selected: '555000000501',
  },
  'no-role': {
    sub: '900000000006',
    given_name: 'Noel',
    family_name: 'Norole-Test',
    organisation: null,
    roles: [],
    selected: null,
  },
  'two-roles': {
    sub: '900000000007',
    given_name: 'Toni',
    family_name: 'Tworole-Test',
    organisation: { code: 'ZZ1ED', name: 'Northshire General Hospital (synthetic)' },
    roles: [
      role('555000000701', 'ZZ1ED', 'R8001', '"Clinical":"Clinical Provision":"Nurse Access Role"', [
        ACTIVITY_VIEW_AND_NOTIFY,
      ]),
      role('555000000702', 'ZZ3GP', 'R8004', '"Clinical":"Clinical Provision":"Health Visitor Access Role"', [
        ACTIVITY_VIEW_SILENTLY,
      ]),
    ],
    selected: '555000000702',
  },
};

/** The claims an account releases; the provider filters them by the granted scopes. */
export function claimsFor(loginId) {
  const user = USERS[loginId];
  const claims = {
    sub: user.sub,
    name: `${user.given_name} ${user.family_name}`,
    given_name: user.given_name,
    family_name: user.family_name,
    nhsid_nrbac_roles: user.roles,
    nhsid_user_orgs: user.organisation
      ? [{ org_code: user.organisation.code, org_name: user.organisation.name }]
      : [],
  };
  if (user.selected) {
    claims.selected_roleid = user.selected;
  }
  return claims;
}

/** The login id whose `sub` is this, if any. */
export function loginIdForSub(sub) {
  return Object.keys(USERS).find((loginId) => USERS[loginId].sub === sub);
}
