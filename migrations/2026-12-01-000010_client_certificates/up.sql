-- Banks' client certificates (mutual TLS): a certificate verified in the
-- handshake whose fingerprint is registered here identifies the bank it was
-- issued to, as its API key would.

CREATE TABLE client_certificates (
    id              BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    -- SHA-256 of the DER end-entity certificate (what `openssl x509 -fingerprint -sha256` prints).
    fingerprint     BYTEA NOT NULL UNIQUE CHECK (octet_length(fingerprint) = 32),
    -- The certificate's subject, so an administrator can tell certificates apart.
    subject         TEXT NOT NULL,
    not_after       TIMESTAMPTZ NOT NULL,
    -- Business time, given by the application's clock (no DEFAULT now()).
    registered_at   TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    CHECK (revoked_at IS NULL OR revoked_at >= registered_at)
);
CREATE INDEX client_certificates_org_idx ON client_certificates (organization_id);

-- Only a bank authenticates by certificate. The application refuses others
-- with a message; this keeps a hand-written INSERT from doing it anyway.
CREATE FUNCTION client_certificate_holder_is_bank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.organization_id AND kind = 'bank') THEN
        RAISE EXCEPTION 'client certificates are registered for banks only (organization %)', NEW.organization_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER client_certificates_holder_is_bank
    BEFORE INSERT OR UPDATE OF organization_id ON client_certificates
    FOR EACH ROW EXECUTE FUNCTION client_certificate_holder_is_bank();
