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

diesel::table! {
    bank_connections (id) {
        id -> Int8,
        bank_id -> Int8,
        dialect -> Jsonb,
        transport -> Jsonb,
        utc_offset_minutes -> Int4,
        revision -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    bank_connection_codes (bank_code) {
        bank_code -> Text,
        connection_id -> Int8,
    }
}

diesel::table! {
    disbursement_batches (id) {
        id -> Int8,
        project_id -> Int8,
        period -> Bpchar,
        wage_account_id -> Int8,
        connection_id -> Int8,
        message_id -> Text,
        previous_batch_id -> Nullable<Int8>,
        requested_by -> Int8,
        created_at -> Timestamptz,
        requested_execution_date -> Date,
        line_count -> Int4,
        amount -> Numeric,
        status -> Text,
        hold_reason -> Nullable<Text>,
        hold_figures -> Nullable<Jsonb>,
        file_format -> Text,
        file_name -> Text,
        file_sha256 -> Text,
        file_bytes -> Bytea,
    }
}

diesel::table! {
    disbursement_batch_events (id) {
        id -> Int8,
        batch_id -> Int8,
        status -> Text,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    disbursement_lines (id) {
        id -> Int8,
        batch_id -> Int8,
        line_id -> Int8,
        seq -> Int4,
        end_to_end_id -> Text,
        worker_id -> Int8,
        creditor_name -> Text,
        card_number -> Text,
        card_bank -> Nullable<Text>,
        amount -> Numeric,
        state -> Text,
        reason_code -> Nullable<Text>,
        reason_text -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    disbursement_line_events (id) {
        id -> Int8,
        attempt_id -> Int8,
        from_state -> Nullable<Text>,
        to_state -> Text,
        at -> Timestamptz,
        cause -> Text,
        bank_file_id -> Nullable<Int8>,
        reason_code -> Nullable<Text>,
        reason_text -> Nullable<Text>,
    }
}

diesel::table! {
    bank_outbox (id) {
        id -> Int8,
        batch_id -> Int8,
        connection_id -> Int8,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    bank_outbox_attempts (id) {
        id -> Int8,
        outbox_id -> Int8,
        attempt -> Int4,
        at -> Timestamptz,
        instance -> Text,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    bank_files (id) {
        id -> Int8,
        sha256 -> Text,
        connection_id -> Nullable<Int8>,
        bank_id -> Nullable<Int8>,
        name -> Nullable<Text>,
        size_bytes -> Int8,
        received_at -> Timestamptz,
        kind -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    bank_file_receipts (id) {
        id -> Int8,
        file_id -> Int8,
        received_at -> Timestamptz,
        channel -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    bank_file_findings (id) {
        id -> Int8,
        file_id -> Int8,
        code -> Text,
        detail -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    bank_statements (id) {
        id -> Int8,
        file_id -> Int8,
        account_number -> Text,
        wage_account_id -> Nullable<Int8>,
        kind -> Text,
        statement_id -> Text,
        sequence_number -> Nullable<Int8>,
        created_at -> Nullable<Timestamptz>,
        from_at -> Nullable<Timestamptz>,
        to_at -> Nullable<Timestamptz>,
        currency -> Nullable<Text>,
        opening_balance -> Nullable<Numeric>,
        closing_balance -> Nullable<Numeric>,
        closing_date -> Nullable<Date>,
        entry_count -> Int4,
        continuity -> Text,
        continuity_detail -> Nullable<Text>,
        stored_at -> Timestamptz,
    }
}

diesel::table! {
    bank_statement_entries (id) {
        id -> Int8,
        statement_id -> Int8,
        entry_no -> Int4,
        account_number -> Text,
        booking_date -> Nullable<Date>,
        value_date -> Nullable<Date>,
        booked_at -> Nullable<Timestamptz>,
        amount -> Numeric,
        currency -> Nullable<Text>,
        direction -> Text,
        status -> Text,
        reversal -> Bool,
        counterparty_account -> Nullable<Text>,
        counterparty_name -> Nullable<Text>,
        end_to_end_id -> Nullable<Text>,
        batch_message_id -> Nullable<Text>,
        payment_information_id -> Nullable<Text>,
        bank_reference -> Nullable<Text>,
        remittance -> Nullable<Text>,
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

diesel::joinable!(bank_connections -> organizations (bank_id));
diesel::joinable!(bank_connection_codes -> bank_connections (connection_id));
diesel::joinable!(disbursement_batches -> projects (project_id));
diesel::joinable!(disbursement_batches -> wage_accounts (wage_account_id));
diesel::joinable!(disbursement_batches -> bank_connections (connection_id));
diesel::joinable!(disbursement_batch_events -> disbursement_batches (batch_id));
diesel::joinable!(disbursement_lines -> disbursement_batches (batch_id));
diesel::joinable!(disbursement_lines -> approved_lines (line_id));
diesel::joinable!(disbursement_lines -> workers (worker_id));
diesel::joinable!(disbursement_line_events -> disbursement_lines (attempt_id));
diesel::joinable!(bank_outbox -> disbursement_batches (batch_id));
diesel::joinable!(bank_outbox -> bank_connections (connection_id));
diesel::joinable!(bank_outbox_attempts -> bank_outbox (outbox_id));
diesel::joinable!(bank_files -> bank_connections (connection_id));
diesel::joinable!(bank_file_receipts -> bank_files (file_id));
diesel::joinable!(bank_file_findings -> bank_files (file_id));
diesel::joinable!(bank_statements -> bank_files (file_id));
diesel::joinable!(bank_statements -> wage_accounts (wage_account_id));
diesel::joinable!(bank_statement_entries -> bank_statements (statement_id));
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
    bank_connections,
    bank_connection_codes,
    disbursement_batches,
    disbursement_batch_events,
    disbursement_lines,
    disbursement_line_events,
    bank_outbox,
    bank_outbox_attempts,
    bank_files,
    bank_file_receipts,
    bank_file_findings,
    bank_statements,
    bank_statement_entries,
);
