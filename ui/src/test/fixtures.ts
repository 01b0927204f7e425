// Synthetic views for the tests, shaped exactly like the generated bindings. No real people.
import type {
  AccessView,
  LookupResponse,
  PatientView,
  PlanView,
  SessionView,
  SetupProblemView,
  StatusView,
  TrustContactsView,
  UiSettings,
  UserView,
} from '../backend';
import { NO_TRUST_CONTACTS } from '../components/TrustContacts';

export const NURSE: UserView = {
  name: 'Alex Testnurse',
  role_name: 'Registered Nurse',
  organisation_ods: 'RXX01',
  organisation_name: 'Testshire General Hospital',
  can_look_up: true,
  cannot_look_up_reason: null,
  unscheduled: true,
  can_review: false,
};

export const RECEPTIONIST: UserView = {
  name: 'Robin Testclerk',
  role_name: 'Receptionist',
  organisation_ods: 'RXX01',
  organisation_name: 'Testshire General Hospital',
  can_look_up: false,
  cannot_look_up_reason: 'Your selected role does not allow child protection lookups.',
  unscheduled: true,
  can_review: false,
};

export const SIGNED_IN: SessionView = { state: 'signed_in', user: NURSE };
export const SIGNED_OUT: SessionView = { state: 'signed_out' };
export const LOCKED: SessionView = { state: 'locked' };

export const CHILD: PatientView = {
  nhs_number: '999 000 0018',
  name: 'TESTCHILD, Jamie',
  date_of_birth: '6 August 2018',
  gender: 'Male',
};

export const MOTHER: PatientView = {
  nhs_number: '999 000 0026',
  name: 'TESTMOTHER, Morgan',
  date_of_birth: '2 March 1995',
  gender: 'Female',
};

export const CPP: PlanView = {
  plan_type: 'child_protection_plan',
  plan_name: 'Child protection plan',
  start: '5 January 2026',
  end: null,
  status: 'active',
  local_authority: {
    name: 'Northshire County Council',
    ods_code: 'Z9N01',
    office_hours_phone: '01632 960001',
    emergency_duty_phone: '01632 960999',
  },
  social_worker: { name: 'Sam Testworker', phone: '07700 900123' },
};

export const ENDED_LAC: PlanView = {
  plan_type: 'looked_after_child',
  plan_name: 'Looked after child',
  start: '1 February 2024',
  end: '3 March 2026',
  status: 'ended',
  local_authority: {
    name: 'Southvale Borough Council',
    ods_code: 'Z9S02',
    office_hours_phone: '01632 960101',
    emergency_duty_phone: '01632 960199',
  },
  social_worker: null,
};

export const UNBORN: PlanView = {
  plan_type: 'unborn_child_protection_plan',
  plan_name: 'Unborn child protection plan',
  start: '1 September 2026',
  end: '14 February 2027',
  status: 'active',
  local_authority: {
    name: 'Northshire County Council',
    ods_code: 'Z9N01',
    office_hours_phone: '01632 960001',
    emergency_duty_phone: '01632 960999',
  },
  social_worker: null,
};

export function access(
  iso: string,
  shown: string,
  organisation: string,
  ods: string,
  viewer = 'Pat Testviewer',
): AccessView {
  return {
    accessed_at: shown,
    accessed_at_iso: iso,
    viewer_name: viewer,
    viewer_role: 'Registered Nurse',
    organisation_name: organisation,
    organisation_ods: ods,
  };
}

export const HISTORY: AccessView[] = [
  access('2026-11-25T09:30:00Z', '25 November 2026 at 9.30am', 'Northshire General Hospital', 'RXX01', 'Alex Testnurse'),
  access('2026-11-22T23:10:00Z', '22 November 2026 at 11.10pm', 'Southvale Walk-in Centre', 'RYY02'),
  access('2026-11-20T14:00:00Z', '20 November 2026 at 2pm', 'Eastmoor Minor Injuries Unit', 'RZZ03'),
  access('2026-11-02T08:45:00Z', '2 November 2026 at 8.45am', 'Northshire General Hospital', 'RXX01'),
];

export function planFound(overrides: Partial<Extract<LookupResponse['view'], { outcome: 'plan_found' }>> = {}): LookupResponse {
  return {
    lookup_id: 7,
    view: {
      outcome: 'plan_found',
      patient: CHILD,
      plans: [CPP],
      access_history: HISTORY,
      access_history_unavailable: null,
      checked_at: '25 November 2026 at 9.30am',
      ...overrides,
    },
    audit_warning: null,
  };
}

export const NO_PLAN: LookupResponse = {
  lookup_id: 8,
  view: { outcome: 'no_plan', patient: CHILD, checked_at: '25 November 2026 at 9.31am' },
  audit_warning: null,
};

export const COULD_NOT_CHECK: LookupResponse = {
  lookup_id: 9,
  view: {
    outcome: 'could_not_check',
    reason_code: 'timeout',
    reason: 'The child protection service took too long to answer.',
    attempted_at: '25 November 2026 at 9.32am',
  },
  audit_warning: null,
};

export const PATIENT_NOT_FOUND: LookupResponse = {
  lookup_id: 10,
  view: {
    outcome: 'patient_not_found',
    nhs_number: '999 000 0034',
    checked_at: '25 November 2026 at 9.33am',
  },
  audit_warning: null,
};

export const INVALID_NUMBER: LookupResponse = {
  lookup_id: 0,
  view: {
    outcome: 'invalid_nhs_number',
    code: 'check_digit',
    message: 'Enter a valid NHS number. The number you entered is not a real NHS number',
  },
  audit_warning: null,
};

export const SUPERSEDED: LookupResponse = {
  lookup_id: 0,
  view: { outcome: 'superseded' },
  audit_warning: null,
};

export const STATUS_OK: StatusView = {
  version: '9.9.9',
  services_reachable: true,
  audit: {
    waiting: 0,
    oldest_waiting_minutes: null,
    last_success: '25 November 2026 at 9.29am',
    quarantined: 0,
    warning: false,
    queue_error: null,
  },
  config_files: ['/etc/cpis-viewer/config.toml (machine-wide)'],
};

/** A trust that configured none of its own words: the screens show only the built-in text. */
export { NO_TRUST_CONTACTS };

/** A trust's own words and numbers (Ofcom drama numbers, as in the end-to-end tests). */
export const TRUST_CONTACTS: TrustContactsView = {
  downtime_procedure: [
    'Use the paper safeguarding checklist kept at the nurses\' station.',
    'Ask the nurse in charge to record the check on the patient\'s notes when CP-IS is back.',
  ],
  safeguarding_in_hours: { display: '0114 496 0123', tel: '+441144960123' },
  safeguarding_in_hours_times: 'Monday to Friday, 9am to 5pm',
  safeguarding_out_of_hours: { display: '0114 496 0999', tel: '+441144960999' },
};

/** Settings as Rust sends them when the trust configured nothing of its own. */
export function uiSettingsView(overrides: Partial<UiSettings> = {}): UiSettings {
  return {
    lock_minutes: 15,
    organisation_display_name: null,
    trust: NO_TRUST_CONTACTS,
    ...overrides,
  };
}

/** Settings with the trust's name and contacts. */
export const TRUST_SETTINGS: UiSettings = uiSettingsView({
  organisation_display_name: 'Testshire Hospitals NHS Foundation Trust',
  trust: TRUST_CONTACTS,
});

/** A computer with no configuration: the release build's answer to setup_problem. */
export const NOT_SET_UP: SetupProblemView = {
  problems: [
    'The setting services.cpis_url is missing.',
    'The setting oidc.issuer is missing.',
  ],
  machine_file: '/etc/cpis-viewer/config.toml',
  user_file: '/home/testuser/.config/cpis-viewer/config.toml',
};

/** The no-plan sentence; could-not-check must never contain it. */
export const NO_PLAN_WORDING =
  'CP-IS has no child protection plan, looked after child or unborn child protection plan for this NHS number';
