-- CP-IS reference service schema, version 1. Portable SQL: the same file runs on SQLite and
-- PostgreSQL. Dates are ISO text (YYYY-MM-DD, which sorts correctly); instants are BIGINT
-- microseconds since the Unix epoch; ids are UUID text.

-- The demographics service's people (the PDS stand-in).
CREATE TABLE people (
    nhs_number TEXT PRIMARY KEY,
    family_name TEXT NOT NULL,
    given_names TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    gender TEXT NOT NULL
);

-- Local authorities and how to reach them.
CREATE TABLE local_authorities (
    ods_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    office_hours_phone TEXT NOT NULL,
    emergency_duty_phone TEXT NOT NULL
);

-- Plans. One row per (person, authority, type, start): an upload of the same key updates it.
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    nhs_number TEXT NOT NULL REFERENCES people (nhs_number),
    la_ods_code TEXT NOT NULL REFERENCES local_authorities (ods_code),
    plan_type TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    social_worker_name TEXT,
    social_worker_phone TEXT,
    updated_at BIGINT NOT NULL,
    CONSTRAINT plans_natural_key UNIQUE (nhs_number, la_ods_code, plan_type, start_date)
);

-- Unscheduled accesses to a record (the access history).
CREATE TABLE accesses (
    id TEXT PRIMARY KEY,
    nhs_number TEXT NOT NULL,
    accessed_at BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    role_profile_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    organisation_ods TEXT NOT NULL,
    organisation_name TEXT NOT NULL,
    trace_id TEXT NOT NULL
);
CREATE INDEX accesses_by_person_time ON accesses (nhs_number, accessed_at);

-- Access to Service Notifications, one per responsible local authority per access.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    access_id TEXT NOT NULL REFERENCES accesses (id),
    la_ods_code TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_by_authority_time ON notifications (la_ods_code, created_at);
