-- +goose Up
-- The scheduled full-roster sync (SPEC §5.3). Each organisation's
-- sync_schedule names slots (cron times in its time_zone); River's leader
-- enqueues a unique job per (organisation, slot), and the job records the
-- slot here in the same transaction as the imports it makes, so a slot runs
-- once even after River has forgotten the job (several daemons, a restart).
-- import_id is the import the run made, NULL when /in/ held no roster.
CREATE TABLE sync_runs (
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    slot TIMESTAMPTZ NOT NULL,
    ran_at TIMESTAMPTZ NOT NULL,
    import_id TEXT,
    PRIMARY KEY (org_id, slot)
);

-- The schedule each organisation's slots are counted from. since is when
-- the scheduler first saw this schedule and time zone: slots before it never
-- run (a new organisation, or a changed schedule, does not sync for the
-- past). no_roster_mailed_at is the last "no new roster" e-mail, sent at
-- most once a day.
CREATE TABLE sync_schedules (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id),
    schedule TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL,
    no_roster_mailed_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE sync_schedules;
DROP TABLE sync_runs;
