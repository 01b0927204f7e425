// Synthetic users of the development identity provider, shaped like NHS Care Identity Service 2
// accounts. They are read from `users.json` next to this file: one file, also the reference
// platform's role directory (crates/cpis-service seeds it). Each user has a login id, a `sub`,
// names, an authentication assurance level ("3" or "2") and the `amr` of that sign-in, a
// `selected_roleid` (or null) and `nhsid_nrbac_roles`, a list of
// `{ person_roleid, org_code, role_code, role_name, activity_codes }`, and `nhsid_user_orgs`.
//
// Every name, ODS code and role id is invented. Nothing is a real person or organisation.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * CIS2's `acr` values this stand-in knows, with the authentication assurance level each needs.
 * `AAL2_OR_ABOVE` is the name docs/sign-in.md uses for CIS2's `AAL2_OR_AAL3_ANY`.
 */
export const ACR_MINIMUM_LEVEL = {
  AAL3_ANY: 3,
  AAL2_OR_AAL3_ANY: 2,
  AAL2_OR_ABOVE: 2,
  AAL2_ANY: 2,
};
/** The `acr` an ID token carries for a user at each level. */
const ACR_FOR_LEVEL = { 3: 'AAL3_ANY', 2: 'AAL2_ANY' };
/** CIS2's identity assurance level: every synthetic user is "verified" (level 3). */
export const ID_ASSURANCE_LEVEL = '3';

const here = path.dirname(fileURLToPath(import.meta.url));

function loadUsers(file) {
  const document = JSON.parse(readFileSync(file, 'utf8'));
  const users = {};
  for (const user of document.users) {
    const level = Number(user.authentication_assurance_level);
    if (!ACR_FOR_LEVEL[level]) {
      throw new Error(`${file}: user ${user.login} has authentication_assurance_level ${user.authentication_assurance_level}, not "3" or "2"`);
    }
    if (users[user.login]) throw new Error(`${file}: login ${user.login} appears twice`);
    users[user.login] = {
      ...user,
      selected_roleid: user.selected_roleid ?? null,
      nhsid_nrbac_roles: user.nhsid_nrbac_roles ?? [],
      nhsid_user_orgs: user.nhsid_user_orgs ?? [],
      amr: user.amr ?? [],
    };
  }
  return users;
}

/** Users by login id, as in users.json (`login` is the key). */
export const USERS = loadUsers(path.join(here, 'users.json'));

/** The user's authentication assurance level as a number (3 or 2). */
export function levelFor(loginId) {
  return Number(USERS[loginId].authentication_assurance_level);
}

/** The `acr` of the user's sign-in: `AAL3_ANY` at level 3, `AAL2_ANY` at level 2. */
export function acrFor(loginId) {
  return ACR_FOR_LEVEL[levelFor(loginId)];
}

/** The `amr` of the user's sign-in, e.g. `["SCA"]` or `["PWD", "OTP"]`. */
export function amrFor(loginId) {
  return [...USERS[loginId].amr];
}

/**
 * Whether the user can satisfy an authorization request's `acr_values` (space-separated; any one
 * value is enough). No `acr_values`: yes. Unknown values cannot be satisfied.
 */
export function satisfiesAcrValues(loginId, acrValues) {
  if (!acrValues) return true;
  const level = levelFor(loginId);
  return acrValues
    .split(' ')
    .filter(Boolean)
    .some((value) => ACR_MINIMUM_LEVEL[value] !== undefined && level >= ACR_MINIMUM_LEVEL[value]);
}

/**
 * Every claim the account can release; the provider (and server.js, per client) filters them.
 * `nhsid_useruid` is the `sub`; the assurance levels are strings, as CIS2 sends them.
 */
export function claimsFor(loginId) {
  const user = USERS[loginId];
  const claims = {
    sub: user.sub,
    nhsid_useruid: user.sub,
    name: `${user.given_name} ${user.family_name}`,
    given_name: user.given_name,
    family_name: user.family_name,
    authentication_assurance_level: String(user.authentication_assurance_level),
    id_assurance_level: ID_ASSURANCE_LEVEL,
    nhsid_nrbac_roles: user.nhsid_nrbac_roles,
    nhsid_user_orgs: user.nhsid_user_orgs,
  };
  if (user.selected_roleid) {
    claims.selected_roleid = user.selected_roleid;
  }
  return claims;
}

/** The login id whose `sub` is this, if any. */
export function loginIdForSub(sub) {
  return Object.keys(USERS).find((loginId) => USERS[loginId].sub === sub);
}
