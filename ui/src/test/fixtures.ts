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
  PhoneView,
} from '../backend';
import { NO_TRUST_CONTACTS } from '../components/TrustContacts';

/**
 * A phone as Rust sends it: the words shown, the `tel:` link (E.164) and the extension. These
 * fixtures stand for what Rust read; which numbers it links is tested in Rust (cpis-ipc).
 */
export function phone(display: string, tel: string | null, extension: string | null = null): PhoneView {
  return { display, tel, extension };
}

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
  date_of_birth_note: null,
  gender: 'Male',
  not_recorded_warning: null,
  restricted_notice: null,
  date_of_death: null,
};

export const MOTHER: PatientView = {
  nhs_number: '999 000 0026',
  name: 'TESTMOTHER, Morgan',
  date_of_birth: '2 March 1995',
  date_of_birth_note: null,
  gender: 'Female',
  not_recorded_warning: null,
  restricted_notice: null,
  date_of_death: null,
};

/** A verified NHS number of which the demographics service recorded nothing else (as Rust words it). */
export const NOT_RECORDED: PatientView = {
  nhs_number: '999 000 0042',
  name: 'Name not recorded',
  date_of_birth: 'Date of birth not recorded',
  date_of_birth_note: null,
  gender: 'Gender not recorded',
  not_recorded_warning:
    'The demographics service has no name, date of birth or gender for this NHS number: confirm who the patient is another way.',
  restricted_notice: null,
  date_of_death: null,
};

/** A child whose date of birth the demographics service records only as a month. */
export const PARTIAL_BIRTH_DATE: PatientView = {
  ...CHILD,
  date_of_birth: 'October 2010',
  date_of_birth_note: 'Partial date: only the month and year are recorded',
};

/** A restricted (sensitive) record. */
export const RESTRICTED: PatientView = {
  ...CHILD,
  restricted_notice:
    "This is a restricted record. The demographics service does not share this patient's address or contact details.",
};

/** A patient the demographics service records as deceased. */
export const DECEASED: PatientView = { ...CHILD, date_of_death: '22 October 2010' };

export const CPP: PlanView = {
  plan_type: 'child_protection_plan',
  plan_name: 'Child protection plan',
  start: '5 January 2026',
  end: null,
  status: { code: 'active', text: 'Active' },
  local_authority: {
    name: 'Northshire County Council',
    ods_code: 'Z9N01',
    office_hours_phone: phone('01632 960001', 'tel:+441632960001'),
    emergency_duty_phone: phone('01632 960999', 'tel:+441632960999'),
  },
  social_worker: { name: 'Sam Testworker', phone: phone('07700 900123', 'tel:+447700900123') },
};

export const ENDED_LAC: PlanView = {
  plan_type: 'looked_after_child',
  plan_name: 'Looked after child',
  start: '1 February 2024',
  end: '3 March 2026',
  status: { code: 'ended', text: 'Ended 3 March 2026' },
  local_authority: {
    name: 'Southvale Borough Council',
    ods_code: 'Z9S02',
    office_hours_phone: phone('01632 960101', 'tel:+441632960101'),
    emergency_duty_phone: phone('01632 960199', 'tel:+441632960199'),
  },
  social_worker: null,
};

export const UNBORN: PlanView = {
  plan_type: 'unborn_child_protection_plan',
  plan_name: 'Unborn child protection plan',
  start: '1 September 2026',
  end: '14 February 2027',
  status: { code: 'active', text: 'Active' },
  local_authority: {
    name: 'Northshire County Council',
    ods_code: 'Z9N01',
    office_hours_phone: phone('01632 960001', 'tel:+441632960001'),
    emergency_duty_phone: phone('01632 960999', 'tel:+441632960999'),
  },
  social_worker: null,
};

/** The seeded mother's unborn plan a week after its due date: never "Ended". */
export const UNBORN_DUE_PASSED: PlanView = {
  ...UNBORN,
  start: '1 May 2026',
  end: '20 November 2026',
  status: { code: 'due_passed', text: 'Due date passed 7 days ago' },
};

/** A plan whose start date is still to come. */
export const FUTURE_CPP: PlanView = {
  ...CPP,
  start: '3 December 2026',
  status: { code: 'starts', text: 'Starts 3 December 2026' },
};

/** A record CP-IS holds whose type, start date, ODS code and out-of-hours number it did not give. */
export const TYPE_NOT_READ: PlanView = {
  plan_type: null,
  plan_name: 'CP-IS holds a record; its type could not be read',
  start: null,
  end: null,
  status: { code: 'active', text: 'Active' },
  local_authority: {
    name: 'SFD1 - TESTSHIRE CITY COUNCIL',
    ods_code: null,
    office_hours_phone: phone('01632 960201', 'tel:+441632960201'),
    emergency_duty_phone: null,
  },
  social_worker: null,
};

export function access(
  iso: string,
  shown: string,
  organisation: string,
  ods: string | null,
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
    support_reference: null,
  },
  audit_warning: null,
};

/** The TraceID of the synthetic refused answer. */
export const TRACE_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** An answer the client refused, with the support reference Rust builds for it. */
export const COULD_NOT_CHECK_REFUSED: LookupResponse = {
  lookup_id: 11,
  view: {
    outcome: 'could_not_check',
    reason_code: 'invalid_response',
    reason: 'The child protection service sent an answer that could not be read.',
    attempted_at: '25 November 2026 at 9.34am',
    support_reference: `TraceID ${TRACE_ID}; reason invalid_response; detail care_team/missing_element:CareTeam.name`,
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
    unreadable_files: 0,
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
  safeguarding_in_hours: phone('0114 496 0123', 'tel:+441144960123'),
  safeguarding_in_hours_times: 'Monday to Friday, 9am to 5pm',
  safeguarding_out_of_hours: phone('0114 496 0999', 'tel:+441144960999'),
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
