-- nuage-broker: requests, tokens and the audit log (PostgreSQL). Timestamps are epoch
-- milliseconds. The workflow engine's tables (wf_*) live in the same database.

CREATE TABLE broker_requests (
    id                  TEXT PRIMARY KEY,
    tenant              TEXT NOT NULL,
    name                TEXT NOT NULL,
    -- the name while the request is live; NULL once its deletion is asked, so a new request
    -- may take the name again
    live_name           TEXT,
    idempotency_key     TEXT,
    body_digest         TEXT NOT NULL,
    request             TEXT NOT NULL,
    decision            TEXT NOT NULL,
    decision_digest     TEXT NOT NULL,
    -- the compiled provisioning input (steps), to start the run again after a crash
    plan                TEXT NOT NULL,
    offer               TEXT NOT NULL,
    adapter             TEXT NOT NULL,
    instance            TEXT NOT NULL,
    simulated           BIGINT NOT NULL,
    region              TEXT NOT NULL,
    tier                TEXT NOT NULL,
    monthly_micros      BIGINT NOT NULL,
    vcpus               BIGINT NOT NULL,
    ram_gib             BIGINT NOT NULL,
    storage_gib         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    delete_requested_at BIGINT,
    deleted_by          TEXT,
    released_at         BIGINT,
    -- 1 while the reconciler may have to act (a run to start, a deletion to follow up, a quota
    -- to give back); 0 once the request is ready or released
    watch               BIGINT NOT NULL DEFAULT 1,
    UNIQUE (tenant, idempotency_key),
    UNIQUE (tenant, live_name)
);
CREATE INDEX broker_requests_tenant ON broker_requests (tenant, id);
CREATE INDEX broker_requests_held ON broker_requests (tenant) WHERE released_at IS NULL;
CREATE INDEX broker_requests_watch ON broker_requests (id) WHERE watch = 1;

CREATE TABLE broker_tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    tenant     TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE broker_audit (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    tenant        TEXT,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    request_id    TEXT,
    decision_hash TEXT,
    details       TEXT NOT NULL,
    -- set when the entry is chained: its place in the chain and the hashes
    seq           BIGINT UNIQUE,
    prev_hash     TEXT,
    hash          TEXT
);
CREATE INDEX broker_audit_unsealed ON broker_audit (id) WHERE seq IS NULL;
CREATE INDEX broker_audit_tenant ON broker_audit (tenant, id);

CREATE TABLE broker_audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO broker_audit_head (id, seq, hash)
VALUES (1, 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000');
