DROP TRIGGER client_certificates_holder_is_bank ON client_certificates;
DROP FUNCTION client_certificate_holder_is_bank();
DROP TABLE client_certificates;
