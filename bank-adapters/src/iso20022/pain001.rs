//! pain.001 (customer credit transfer initiation): a wage batch as the file
//! we hand to the bank.
//!
//! One `PmtInf` per batch (its id is the message id, so a pain.002 that
//! answers at payment-information level still names our batch), one
//! `CdtTrfTxInf` per worker, `BtchBookg` false so every wage is booked, and
//! comes back on the statement, on its own. Values that do not fit the
//! schema are refused with a [`WriteError`], never cut.

use crate::error::WriteError;
use crate::model::{PaymentBatch, PaymentLine};

use super::out::{checked_decimal, Out};

/// Which pain.001 version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pain001Version {
    /// pain.001.001.03 (2009), still what most banks take.
    V03,
    /// pain.001.001.09 (2019).
    V09,
}

impl Pain001Version {
    pub fn namespace(self) -> &'static str {
        match self {
            Pain001Version::V03 => "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
            Pain001Version::V09 => "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
        }
    }

    pub fn message_name(self) -> &'static str {
        match self {
            Pain001Version::V03 => "pain.001.001.03",
            Pain001Version::V09 => "pain.001.001.09",
        }
    }

    fn bic_tag(self) -> &'static str {
        match self {
            Pain001Version::V03 => "BIC",
            Pain001Version::V09 => "BICFI",
        }
    }
}

/// Writes `batch` as a pain.001 document (UTF-8).
///
/// Refused: an empty batch; ids over 35 and names or remittance texts over
/// 140 characters ([`WriteError::TooLong`]); control characters
/// ([`WriteError::BadCharacter`]; Chinese text is fine); amounts that are
/// not positive or have more than 2 decimals; a line without the worker's
/// name (a wage must name its payee).
pub fn write_pain001(batch: &PaymentBatch, version: Pain001Version) -> Result<String, WriteError> {
    let mut xml = String::with_capacity(1024 + batch.lines.len() * 600);
    write_pain001_into(batch, version, &mut xml)?;
    Ok(xml)
}

/// [`write_pain001`] into a buffer the caller keeps: `xml` is cleared and
/// holds the document afterwards (it is left empty on an error). Writing
/// batch after batch into one buffer spares allocating, and the operating
/// system zeroing, the document's memory each time.
pub fn write_pain001_into(
    batch: &PaymentBatch,
    version: Pain001Version,
    xml: &mut String,
) -> Result<(), WriteError> {
    xml.clear();
    let buf = std::mem::take(xml);
    let out = Out::appending_to(buf).flat();
    match write_document(batch, version, out) {
        Ok(written) => {
            *xml = written;
            Ok(())
        }
        Err(error) => Err(error),
    }
}

fn write_document(
    batch: &PaymentBatch,
    version: Pain001Version,
    mut out: Out,
) -> Result<String, WriteError> {
    if batch.lines.is_empty() {
        return Err(WriteError::Invalid {
            field: "lines".to_owned(),
            message: "a payment batch needs at least one line".to_owned(),
        });
    }
    // Amounts first, so a bad line is named before the control sum it
    // spoils; the sum must fit too (DecimalNumber: at most 18 digits).
    for (index, line) in batch.lines.iter().enumerate() {
        checked_decimal(line.amount.value, 2, true).map_err(|message| WriteError::Invalid {
            field: format!("lines[{index}].amount"),
            message,
        })?;
    }
    let control_sum = batch.control_sum();
    checked_decimal(control_sum, 2, true).map_err(|message| WriteError::Invalid {
        field: "lines".to_owned(),
        message: format!("control sum: {message}"),
    })?;
    let count = batch.number_of_transactions().to_string();
    out.declaration();
    out.open_with(
        "Document",
        &format!(
            " xmlns=\"{}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            version.namespace()
        ),
    );
    out.open("CstmrCdtTrfInitn");

    out.open("GrpHdr");
    out.text("MsgId", &batch.message_id, 35, "message_id")?;
    out.date_time("CreDtTm", batch.created_at);
    out.raw("NbOfTxs", &count);
    out.decimal("CtrlSum", control_sum);
    out.open("InitgPty");
    out.text("Nm", &batch.initiating_party, 140, "initiating_party")?;
    out.close("InitgPty");
    out.close("GrpHdr");

    out.open("PmtInf");
    out.text("PmtInfId", &batch.message_id, 35, "message_id")?;
    out.raw("PmtMtd", "TRF");
    out.raw("BtchBookg", "false");
    out.raw("NbOfTxs", &count);
    out.decimal("CtrlSum", control_sum);
    match version {
        Pain001Version::V03 => out.date("ReqdExctnDt", batch.requested_execution_date),
        Pain001Version::V09 => {
            out.open("ReqdExctnDt");
            out.date("Dt", batch.requested_execution_date);
            out.close("ReqdExctnDt");
        }
    }
    out.open("Dbtr");
    let debtor_name = batch
        .debtor
        .name
        .as_deref()
        .unwrap_or(&batch.initiating_party);
    out.text("Nm", debtor_name, 140, "debtor.name")?;
    out.close("Dbtr");
    out.account("DbtrAcct", &batch.debtor.number, None, "debtor.number")?;
    out.agent("DbtrAgt", version.bic_tag(), &batch.debtor, "debtor")?;

    for (index, line) in batch.lines.iter().enumerate() {
        out.set_item("lines", index);
        write_line(&mut out, line, version)?;
    }
    out.clear_context();

    out.close("PmtInf");
    out.close("CstmrCdtTrfInitn");
    out.close("Document");
    Ok(out.finish())
}

fn write_line(
    out: &mut Out,
    line: &PaymentLine,
    version: Pain001Version,
) -> Result<(), WriteError> {
    out.open("CdtTrfTxInf");
    out.open("PmtId");
    let (instruction_id, field) = match line.instruction_id.as_deref() {
        Some(id) => (id, "instruction_id"),
        None => (line.end_to_end_id.as_str(), "end_to_end_id"),
    };
    out.text("InstrId", instruction_id, 35, field)?;
    out.text("EndToEndId", &line.end_to_end_id, 35, "end_to_end_id")?;
    out.close("PmtId");
    out.open("Amt");
    out.amount("InstdAmt", &line.amount, 2, true, "amount")?;
    out.close("Amt");
    let creditor = &line.creditor;
    if creditor.bank_code.is_some() || creditor.bank_name.is_some() {
        out.agent("CdtrAgt", version.bic_tag(), creditor, "creditor")?;
    }
    let Some(name) = creditor.name.as_deref() else {
        return Err(WriteError::Invalid {
            field: out.field("creditor.name"),
            message: "the worker's name is required".to_owned(),
        });
    };
    out.open("Cdtr");
    out.text("Nm", name, 140, "creditor.name")?;
    out.close("Cdtr");
    out.account("CdtrAcct", &creditor.number, None, "creditor.number")?;
    if let Some(remittance) = line.remittance.as_deref() {
        out.open("RmtInf");
        out.text("Ustrd", remittance, 140, "remittance")?;
        out.close("RmtInf");
    }
    out.close("CdtTrfTxInf");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso20022::generate_payment_batch;

    #[test]
    fn writing_into_a_kept_buffer_gives_the_same_document() {
        let batch = generate_payment_batch(50, 7);
        for version in [Pain001Version::V03, Pain001Version::V09] {
            let fresh = write_pain001(&batch, version).unwrap();
            let mut kept = "left over from an earlier batch".to_owned();
            write_pain001_into(&batch, version, &mut kept).unwrap();
            assert_eq!(kept, fresh);
            let mut bad = batch.clone();
            bad.lines[3].creditor.name = None;
            let error = write_pain001_into(&bad, version, &mut kept).unwrap_err();
            assert!(
                error.to_string().contains("lines[3].creditor.name"),
                "{error}"
            );
            assert!(kept.is_empty());
        }
    }

    #[test]
    fn the_generated_batch_is_valid_pain001() {
        let batch = generate_payment_batch(200, 3);
        assert_eq!(batch, generate_payment_batch(200, 3));
        for version in [Pain001Version::V03, Pain001Version::V09] {
            let xml = write_pain001(&batch, version).unwrap();
            match crate::iso20022::validate_xml_with_xmllint(&xml) {
                Ok(()) => {}
                // No xmllint on this machine: nothing to check against.
                Err(crate::iso20022::ValidationFailure::Tool(_)) => {}
                Err(other) => panic!("{version:?}: {other:?}"),
            }
        }
    }
}
