-- nuage-workflows: durable workflow tables (PostgreSQL). Timestamps are epoch milliseconds.
CREATE TABLE wf_workflows (
    id               TEXT PRIMARY KEY,
    definition       TEXT NOT NULL,
    version          BIGINT NOT NULL,
    def_key          TEXT NOT NULL,
    state            TEXT NOT NULL,
    phase            TEXT NOT NULL DEFAULT 'forward',
    on_failure       TEXT NOT NULL,
    input            TEXT NOT NULL,
    idempotency_key  TEXT UNIQUE,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    deadline_at      BIGINT,
    next_run_at      BIGINT,
    lease_owner      TEXT,
    lease_epoch      BIGINT NOT NULL DEFAULT 0,
    lease_expires_at BIGINT
);
CREATE INDEX wf_workflows_runnable ON wf_workflows (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX wf_workflows_state ON wf_workflows (state, created_at);
CREATE INDEX wf_workflows_created ON wf_workflows (created_at);
CREATE INDEX wf_workflows_owner ON wf_workflows (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE wf_labels (
    workflow_id TEXT NOT NULL REFERENCES wf_workflows (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (workflow_id, key)
);
CREATE INDEX wf_labels_kv ON wf_labels (key, value);

CREATE TABLE wf_steps (
    workflow_id   TEXT NOT NULL REFERENCES wf_workflows (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL,
    limit_key     TEXT,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    comp_attempts BIGINT NOT NULL DEFAULT 0,
    retry_base    BIGINT NOT NULL DEFAULT 0,
    output        TEXT,
    checkpoint    TEXT,
    error         TEXT,
    started_at    BIGINT,
    finished_at   BIGINT,
    PRIMARY KEY (workflow_id, name),
    UNIQUE (workflow_id, position)
);

CREATE TABLE wf_attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    step        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    epoch       BIGINT NOT NULL,
    worker      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT,
    error_kind  TEXT,
    error       TEXT
);
CREATE INDEX wf_attempts_wf ON wf_attempts (workflow_id, step);

CREATE TABLE wf_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    step        TEXT,
    actor       TEXT,
    detail      TEXT
);
CREATE INDEX wf_events_wf ON wf_events (workflow_id, id);
CREATE INDEX wf_events_kind ON wf_events (kind);

CREATE TABLE wf_limits (
    key                  TEXT PRIMARY KEY,
    max_concurrent       BIGINT,
    rate_per_sec         DOUBLE PRECISION,
    burst                DOUBLE PRECISION NOT NULL DEFAULT 1,
    tokens               DOUBLE PRECISION NOT NULL DEFAULT 0,
    refilled_at          BIGINT NOT NULL DEFAULT 0,
    failure_threshold    BIGINT,
    open_for_ms          BIGINT NOT NULL DEFAULT 30000,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    open_until           BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE wf_permits (
    key         TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    owner       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (key, workflow_id)
);
CREATE INDEX wf_permits_wf ON wf_permits (workflow_id);
CREATE INDEX wf_permits_owner ON wf_permits (owner);
