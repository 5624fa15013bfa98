// The tables, as diesel sees them. Keep in step with migrations/.

diesel::table! {
    organizations (id) {
        id -> Int8,
        kind -> Text,
        name -> Text,
        uscc -> Bpchar,
        region_code -> Nullable<Bpchar>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        organization_id -> Int8,
        key_hash -> Bytea,
        key_prefix -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    projects (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        region_code -> Bpchar,
        owner_id -> Int8,
        contractor_id -> Int8,
        contract_amount -> Numeric,
        contract_signed_on -> Date,
        labour_cost_share_percent -> Numeric,
        labour_cost_due_day -> Int2,
        payday -> Int2,
        planned_start_on -> Date,
        planned_end_on -> Date,
        minimum_monthly_wage -> Numeric,
        created_at -> Timestamptz,
        created_by -> Int8,
        allow_unconfirmed_approval -> Bool,
    }
}

diesel::table! {
    project_subcontractors (project_id, organization_id) {
        project_id -> Int8,
        organization_id -> Int8,
        attached_at -> Timestamptz,
        attached_by -> Int8,
    }
}

diesel::table! {
    wage_accounts (id) {
        id -> Int8,
        project_id -> Int8,
        bank_code -> Text,
        account_number -> Text,
        account_name -> Text,
        opened_on -> Date,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    workers (id) {
        id -> Int8,
        id_number -> Bpchar,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    card_claims (card_number) {
        card_number -> Text,
        worker_id -> Int8,
        claimed_at -> Timestamptz,
    }
}

diesel::table! {
    roster_entries (id) {
        id -> Int8,
        project_id -> Int8,
        worker_id -> Int8,
        employer_id -> Int8,
        team -> Nullable<Text>,
        trade -> Nullable<Text>,
        contract_signed_on -> Date,
        entered_on -> Date,
        exited_on -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        name -> Text,
        phone -> Nullable<Text>,
        card_number -> Nullable<Text>,
        card_bank -> Nullable<Text>,
    }
}

diesel::table! {
    attendance_records (id) {
        id -> Int8,
        project_id -> Int8,
        worker_id -> Int8,
        work_date -> Date,
        hours -> Numeric,
        source -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by -> Int8,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        entity -> Text,
        entity_id -> Nullable<Int8>,
        action -> Text,
        data -> Jsonb,
    }
}

diesel::table! {
    payrolls (id) {
        id -> Int8,
        project_id -> Int8,
        employer_id -> Int8,
        period -> Bpchar,
        revision -> Int4,
        submitted_by -> Int8,
        submitted_at -> Timestamptz,
        source_format -> Text,
        line_count -> Int4,
        accepted_count -> Int4,
        rejected_count -> Int4,
        warning_count -> Int4,
        total_net -> Numeric,
        accepted_net -> Numeric,
        attended_but_unpaid -> Jsonb,
    }
}

diesel::table! {
    payroll_lines (id) {
        id -> Int8,
        payroll_id -> Int8,
        line_no -> Int4,
        worker_id -> Nullable<Int8>,
        id_number -> Text,
        name -> Text,
        card_number -> Text,
        days_worked -> Nullable<Numeric>,
        hours -> Nullable<Numeric>,
        gross -> Nullable<Numeric>,
        deductions -> Nullable<Numeric>,
        net -> Nullable<Numeric>,
        gross_items -> Jsonb,
        deduction_items -> Jsonb,
        status -> Text,
        reasons -> Jsonb,
    }
}

diesel::table! {
    line_confirmations (id) {
        id -> Int8,
        line_id -> Int8,
        action -> Text,
        channel -> Text,
        reason -> Nullable<Text>,
        at -> Timestamptz,
        sheet_reference -> Nullable<Text>,
        recorded_by -> Nullable<Int8>,
    }
}

diesel::table! {
    payroll_approvals (id) {
        id -> Int8,
        payroll_id -> Int8,
        approved_by -> Int8,
        at -> Timestamptz,
        allow_unconfirmed -> Bool,
        line_count -> Int4,
        amount -> Numeric,
    }
}

diesel::table! {
    approved_lines (line_id) {
        line_id -> Int8,
        approval_id -> Int8,
        unconfirmed -> Bool,
    }
}

diesel::table! {
    idempotency_keys (organization_id, key) {
        organization_id -> Int8,
        key -> Text,
        request_hash -> Bytea,
        state -> Text,
        response_status -> Nullable<Int2>,
        response_body -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    client_certificates (id) {
        id -> Int8,
        organization_id -> Int8,
        fingerprint -> Bytea,
        subject -> Text,
        not_after -> Timestamptz,
        registered_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    line_tokens (line_id) {
        line_id -> Int8,
        token_hash -> Nullable<Bytea>,
        issued_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        issues -> Int4,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        line_id -> Int8,
        channel -> Text,
        reason -> Text,
        status -> Text,
        phone_masked -> Nullable<Text>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        next_attempt_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(api_keys -> organizations (organization_id));
diesel::joinable!(project_subcontractors -> projects (project_id));
diesel::joinable!(project_subcontractors -> organizations (organization_id));
diesel::joinable!(wage_accounts -> projects (project_id));
diesel::joinable!(roster_entries -> projects (project_id));
diesel::joinable!(roster_entries -> workers (worker_id));
diesel::joinable!(card_claims -> workers (worker_id));
diesel::joinable!(attendance_records -> workers (worker_id));
diesel::joinable!(payrolls -> projects (project_id));
diesel::joinable!(payroll_lines -> payrolls (payroll_id));
diesel::joinable!(payroll_lines -> workers (worker_id));
diesel::joinable!(line_confirmations -> payroll_lines (line_id));
diesel::joinable!(approved_lines -> payroll_lines (line_id));
diesel::joinable!(approved_lines -> payroll_approvals (approval_id));
diesel::joinable!(payroll_approvals -> payrolls (payroll_id));
diesel::joinable!(client_certificates -> organizations (organization_id));
diesel::joinable!(line_tokens -> payroll_lines (line_id));
diesel::joinable!(notifications -> payroll_lines (line_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    api_keys,
    projects,
    project_subcontractors,
    wage_accounts,
    workers,
    card_claims,
    roster_entries,
    attendance_records,
    audit_events,
    payrolls,
    payroll_lines,
    line_confirmations,
    payroll_approvals,
    approved_lines,
    idempotency_keys,
    client_certificates,
    line_tokens,
    notifications,
);
