-- The registry: organisations and their API keys, projects, dedicated wage
-- accounts, the real-name roster and attendance. The database guards the
-- invariants; history tables are append-only.

CREATE TABLE organizations (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('owner', 'contractor', 'subcontractor', 'bank', 'regulator', 'admin')),
    name        TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    uscc        CHAR(18) NOT NULL UNIQUE,
    -- A regulator sees this region and everything under it.
    region_code CHAR(6) CHECK (region_code ~ '^[0-9]{6}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (kind <> 'regulator' OR region_code IS NOT NULL)
);

CREATE TABLE api_keys (
    id              BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    -- SHA-256 of the key; the key itself is shown once and never stored.
    key_hash        BYTEA NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    -- The first characters of the key, so an administrator can tell keys apart.
    key_prefix      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE projects (
    id                         BIGSERIAL PRIMARY KEY,
    code                       TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name                       TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    region_code                CHAR(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    owner_id                   BIGINT NOT NULL REFERENCES organizations (id),
    contractor_id              BIGINT NOT NULL REFERENCES organizations (id),
    contract_amount            NUMERIC(18, 2) NOT NULL CHECK (contract_amount > 0),
    contract_signed_on         DATE NOT NULL,
    labour_cost_share_percent  NUMERIC(5, 2) NOT NULL CHECK (labour_cost_share_percent > 0 AND labour_cost_share_percent <= 100),
    labour_cost_due_day        SMALLINT NOT NULL CHECK (labour_cost_due_day BETWEEN 1 AND 31),
    payday                     SMALLINT NOT NULL CHECK (payday BETWEEN 1 AND 31),
    planned_start_on           DATE NOT NULL,
    planned_end_on             DATE NOT NULL,
    minimum_monthly_wage       NUMERIC(18, 2) NOT NULL CHECK (minimum_monthly_wage > 0),
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by                 BIGINT NOT NULL REFERENCES organizations (id),
    CHECK (planned_end_on >= planned_start_on)
);
CREATE INDEX projects_contractor_idx ON projects (contractor_id);
CREATE INDEX projects_owner_idx ON projects (owner_id);
CREATE INDEX projects_region_idx ON projects (region_code);

CREATE TABLE project_subcontractors (
    project_id      BIGINT NOT NULL REFERENCES projects (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    attached_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    attached_by     BIGINT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (project_id, organization_id)
);
CREATE INDEX project_subcontractors_org_idx ON project_subcontractors (organization_id);

-- 农民工工资专用账户: one per project, and one project per account.
CREATE TABLE wage_accounts (
    id             BIGSERIAL PRIMARY KEY,
    project_id     BIGINT NOT NULL UNIQUE REFERENCES projects (id),
    bank_code      TEXT NOT NULL CHECK (length(btrim(bank_code)) > 0),
    account_number TEXT NOT NULL UNIQUE CHECK (account_number ~ '^[0-9A-Za-z-]{6,40}$'),
    account_name   TEXT NOT NULL CHECK (length(btrim(account_name)) > 0),
    opened_on      DATE NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A person, identified by the resident ID number; the same person may work on many projects.
CREATE TABLE workers (
    id          BIGSERIAL PRIMARY KEY,
    id_number   CHAR(18) NOT NULL UNIQUE,
    name        TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    phone       TEXT,
    -- A bank card belongs to one person.
    card_number TEXT UNIQUE CHECK (card_number ~ '^[0-9]{12,19}$'),
    card_bank   TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- 实名制花名册: a worker on a project's roster.
CREATE TABLE roster_entries (
    id                 BIGSERIAL PRIMARY KEY,
    project_id         BIGINT NOT NULL REFERENCES projects (id),
    worker_id          BIGINT NOT NULL REFERENCES workers (id),
    employer_id        BIGINT NOT NULL REFERENCES organizations (id),
    team               TEXT,
    trade              TEXT,
    contract_signed_on DATE NOT NULL,
    entered_on         DATE NOT NULL,
    exited_on          DATE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (project_id, worker_id),
    CHECK (exited_on IS NULL OR exited_on >= entered_on)
);
CREATE INDEX roster_entries_employer_idx ON roster_entries (project_id, employer_id);

-- 考勤: daily attendance. A correction supersedes the live record, which is kept.
CREATE TABLE attendance_records (
    id            BIGSERIAL PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects (id),
    worker_id     BIGINT NOT NULL REFERENCES workers (id),
    work_date     DATE NOT NULL,
    hours         NUMERIC(4, 2) NOT NULL CHECK (hours >= 0 AND hours <= 24),
    source        TEXT,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by   BIGINT NOT NULL REFERENCES organizations (id),
    superseded_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX attendance_live_uidx ON attendance_records (project_id, worker_id, work_date)
    WHERE superseded_at IS NULL;
CREATE INDEX attendance_project_date_idx ON attendance_records (project_id, work_date);

-- Append-only record of who changed what and when (the regulation asks for
-- ledgers to be kept for years; nothing here is updated or deleted).
CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id   BIGINT REFERENCES organizations (id),
    entity     TEXT NOT NULL,
    entity_id  BIGINT,
    action     TEXT NOT NULL,
    data       JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity, entity_id);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
