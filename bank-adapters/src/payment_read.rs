//! Reading payment files back: ISO 20022 pain.001 (.001.03 and .001.09) and
//! ICBC PAYPER, into the neutral [`PaymentBatch`].
//!
//! We write payment files, we do not receive them; reading them serves the
//! bank simulator (which plays the bank) and `wagebridge bank-file inspect`,
//! and closes the round trip of every writer. A pain.001 may hold several
//! payment informations (PmtInf: one debtor account, one execution date);
//! each becomes one batch carrying the group header's MsgId and CreDtTm.
//!
//! This module does no I/O and must stay free of any one bank's rules.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::cn_icbc;
use crate::error::{Position, ReadError};
use crate::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use crate::read_options::ReadOptions;
use crate::xml::{Node, XmlReader};

/// A payment file as read: the message, what its header states, and its
/// batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFile {
    /// `pain.001.001.09`, `pain.001.001.03` or `icbc.PAYPER`.
    pub message: String,
    pub message_id: String,
    /// NbOfTxs of the group header (ICBC: TotalNum), as stated.
    pub stated_number_of_transactions: Option<u64>,
    /// CtrlSum of the group header (ICBC: TotalAmt), as stated.
    pub stated_control_sum: Option<Decimal>,
    /// One batch per PmtInf (ICBC: one per package).
    pub batches: Vec<PaymentBatch>,
}

impl PaymentFile {
    /// Number of transactions over all batches.
    pub fn number_of_transactions(&self) -> usize {
        self.batches
            .iter()
            .map(PaymentBatch::number_of_transactions)
            .sum()
    }

    /// Sum of all amounts over all batches.
    pub fn control_sum(&self) -> Decimal {
        self.batches.iter().map(PaymentBatch::control_sum).sum()
    }

    /// The only batch of a file written from one batch; `Invalid` when the
    /// file holds several payment informations.
    pub fn into_single_batch(self) -> Result<PaymentBatch, ReadError> {
        let count = self.batches.len();
        let mut batches = self.batches;
        match (batches.pop(), count) {
            (Some(batch), 1) => Ok(batch),
            _ => Err(ReadError::Invalid {
                position: Position::default(),
                message: format!("the file holds {count} payment informations, not one"),
            }),
        }
    }
}

/// Reads a pain.001 or ICBC PAYPER file, found by its content.
pub fn read_payment_file(bytes: &[u8]) -> Result<PaymentFile, ReadError> {
    let detected = crate::dialect::detect(bytes)?;
    match detected.message.as_str() {
        "icbc.PAYPER" => {
            let batch = cn_icbc::read_payper(bytes)?;
            Ok(PaymentFile {
                message: detected.message,
                message_id: batch.message_id.clone(),
                stated_number_of_transactions: Some(batch.lines.len() as u64),
                stated_control_sum: Some(batch.control_sum()),
                batches: vec![batch],
            })
        }
        message if message.starts_with("pain.001.") => read_pain001(bytes),
        other => Err(ReadError::UnknownFormat(format!(
            "{other} is not a payment file"
        ))),
    }
}

/// Reads a pain.001 (customer credit transfer initiation) in the encoding
/// its declaration names.
pub fn read_pain001(bytes: &[u8]) -> Result<PaymentFile, ReadError> {
    let text = cn_icbc::charset::decode(bytes)?;
    let mut reader = XmlReader::new(text.as_bytes());
    if reader.next()? != Node::Start || reader.name() != "Document" {
        return Err(ReadError::UnknownFormat(format!(
            "root element <{}> is not an ISO 20022 <Document>",
            reader.name()
        )));
    }
    let message = reader
        .root_namespace()
        .and_then(crate::iso20022::message_from_namespace)
        .map(|name| name.to_string())
        .unwrap_or_else(|| "pain.001".to_owned());
    if !message.starts_with("pain.001.") {
        return Err(ReadError::UnknownFormat(format!(
            "{message} is not a pain.001"
        )));
    }
    let mut file = Pain001Builder::default();
    loop {
        match reader.next()? {
            Node::Start => file.start(&mut reader)?,
            Node::End => file.end(&reader)?,
            Node::Text => file.text(&reader)?,
            Node::Eof => break,
        }
    }
    file.finish(message)
}

/// Collects a pain.001 while the reader walks it.
#[derive(Default)]
struct Pain001Builder {
    message_id: Option<String>,
    created_at: Option<DateTime<Utc>>,
    number_of_transactions: Option<u64>,
    control_sum: Option<Decimal>,
    initiating_party: Option<String>,
    initiating_party_id: Option<String>,
    saw_root_body: bool,
    batches: Vec<PmtInf>,
    current: Option<PmtInf>,
    line: Option<LineBuilder>,
}

#[derive(Default)]
struct PmtInf {
    execution_date: Option<NaiveDate>,
    debtor: AccountRef,
    lines: Vec<PaymentLine>,
    position: Position,
}

#[derive(Default)]
struct LineBuilder {
    end_to_end_id: Option<String>,
    instruction_id: Option<String>,
    amount: Option<Amount>,
    creditor: AccountRef,
    unstructured: Vec<String>,
    structured_ref: Option<String>,
    position: Position,
}

impl Pain001Builder {
    fn start<R: std::io::BufRead>(&mut self, reader: &mut XmlReader<R>) -> Result<(), ReadError> {
        let path = reader.path().to_owned();
        let Some(rel) = path.strip_prefix("/Document/CstmrCdtTrfInitn") else {
            return Err(reader.invalid(format!(
                "<{}> where a pain.001 has <CstmrCdtTrfInitn>",
                reader.name()
            )));
        };
        self.saw_root_body = true;
        let rel = rel.strip_prefix('/').unwrap_or(rel);
        match rel {
            "GrpHdr/MsgId" => self.message_id = Some(reader.read_text()?),
            "GrpHdr/CreDtTm" => {
                let text = reader.read_text()?;
                self.created_at = Some(parse_iso_date_time(&text).ok_or_else(|| {
                    reader.invalid(format!("CreDtTm {text:?} is not an ISO date-time"))
                })?);
            }
            "GrpHdr/NbOfTxs" => {
                let text = reader.read_text()?;
                self.number_of_transactions =
                    Some(text.parse().map_err(|_| {
                        reader.invalid(format!("NbOfTxs {text:?} is not a number"))
                    })?);
            }
            "GrpHdr/CtrlSum" => self.control_sum = Some(read_decimal(reader, "CtrlSum")?),
            "GrpHdr/InitgPty/Nm" => self.initiating_party = Some(reader.read_text()?),
            "GrpHdr/InitgPty/Id/OrgId/Othr/Id" => {
                self.initiating_party_id = Some(reader.read_text()?)
            }
            "PmtInf" => {
                self.current = Some(PmtInf {
                    position: reader.position(),
                    ..PmtInf::default()
                })
            }
            _ => {
                if let Some(rest) = rel.strip_prefix("PmtInf/") {
                    self.start_in_payment_information(reader, rest)?;
                }
            }
        }
        Ok(())
    }

    fn start_in_payment_information<R: std::io::BufRead>(
        &mut self,
        reader: &mut XmlReader<R>,
        rel: &str,
    ) -> Result<(), ReadError> {
        let Some(pmt) = self.current.as_mut() else {
            return Ok(());
        };
        match rel {
            // .09 wraps the date in Dt or DtTm; .03's bare text is seen in `text`.
            "ReqdExctnDt/Dt" | "ReqdExctnDt/DtTm" => {
                let text = reader.read_text()?;
                pmt.execution_date = Some(parse_execution_date(reader, &text)?);
            }
            "Dbtr/Nm" => pmt.debtor.name = Some(reader.read_text()?),
            "DbtrAcct/Id/IBAN" | "DbtrAcct/Id/Othr/Id" => pmt.debtor.number = reader.read_text()?,
            "DbtrAgt/FinInstnId/BIC" | "DbtrAgt/FinInstnId/BICFI" => {
                pmt.debtor.bank_code = Some(reader.read_text()?)
            }
            "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId" | "DbtrAgt/FinInstnId/Othr/Id" => {
                if let Some(code) = bank_code(reader.read_text()?) {
                    pmt.debtor.bank_code.get_or_insert(code);
                }
            }
            "DbtrAgt/FinInstnId/Nm" => pmt.debtor.bank_name = Some(reader.read_text()?),
            "CdtTrfTxInf" => {
                self.line = Some(LineBuilder {
                    position: reader.position(),
                    ..LineBuilder::default()
                })
            }
            _ => {
                if let (Some(rest), Some(line)) =
                    (rel.strip_prefix("CdtTrfTxInf/"), self.line.as_mut())
                {
                    read_line_field(reader, rest, line)?;
                }
            }
        }
        Ok(())
    }

    /// Text outside the leaves read by `start`: only pain.001.001.03's bare
    /// `<ReqdExctnDt>2013-11-15</ReqdExctnDt>` matters.
    fn text<R: std::io::BufRead>(&mut self, reader: &XmlReader<R>) -> Result<(), ReadError> {
        if reader.path() == "/Document/CstmrCdtTrfInitn/PmtInf/ReqdExctnDt" {
            if let Some(pmt) = self.current.as_mut() {
                pmt.execution_date = Some(parse_execution_date(reader, reader.text())?);
            }
        }
        Ok(())
    }

    fn end<R: std::io::BufRead>(&mut self, reader: &XmlReader<R>) -> Result<(), ReadError> {
        match reader.path() {
            "/Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf" => {
                if let (Some(line), Some(pmt)) = (self.line.take(), self.current.as_mut()) {
                    pmt.lines.push(line.finish()?);
                }
            }
            "/Document/CstmrCdtTrfInitn/PmtInf" => {
                if let Some(pmt) = self.current.take() {
                    self.batches.push(pmt);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self, message: String) -> Result<PaymentFile, ReadError> {
        let at_root = |text: &str| ReadError::Invalid {
            position: Position {
                line: 0,
                column: 0,
                path: "/Document/CstmrCdtTrfInitn/GrpHdr".to_owned(),
            },
            message: text.to_owned(),
        };
        if !self.saw_root_body {
            return Err(at_root("missing <CstmrCdtTrfInitn>"));
        }
        let message_id = self.message_id.ok_or_else(|| at_root("missing <MsgId>"))?;
        let created_at = self
            .created_at
            .ok_or_else(|| at_root("missing <CreDtTm>"))?;
        let initiating_party = self
            .initiating_party
            .or(self.initiating_party_id)
            .unwrap_or_default();
        let batches = self
            .batches
            .into_iter()
            .map(|pmt| {
                let execution_date = pmt.execution_date.ok_or_else(|| ReadError::Invalid {
                    position: pmt.position.clone(),
                    message: "missing <ReqdExctnDt>".to_owned(),
                })?;
                Ok(PaymentBatch {
                    message_id: message_id.clone(),
                    created_at,
                    requested_execution_date: execution_date,
                    initiating_party: initiating_party.clone(),
                    debtor: pmt.debtor,
                    lines: pmt.lines,
                })
            })
            .collect::<Result<Vec<_>, ReadError>>()?;
        Ok(PaymentFile {
            message,
            message_id,
            stated_number_of_transactions: self.number_of_transactions,
            stated_control_sum: self.control_sum,
            batches,
        })
    }
}

fn parse_execution_date<R: std::io::BufRead>(
    reader: &XmlReader<R>,
    text: &str,
) -> Result<NaiveDate, ReadError> {
    NaiveDate::parse_from_str(text.trim().get(..10).unwrap_or(""), "%Y-%m-%d")
        .map_err(|_| reader.invalid(format!("ReqdExctnDt {text:?} is not a date")))
}

fn read_line_field<R: std::io::BufRead>(
    reader: &mut XmlReader<R>,
    rel: &str,
    line: &mut LineBuilder,
) -> Result<(), ReadError> {
    match rel {
        "PmtId/EndToEndId" => line.end_to_end_id = Some(reader.read_text()?),
        "PmtId/InstrId" => line.instruction_id = Some(reader.read_text()?),
        "Amt/InstdAmt" => {
            let currency = reader
                .attribute("Ccy")?
                .ok_or_else(|| reader.invalid("InstdAmt has no Ccy"))?;
            let value = read_decimal(reader, "InstdAmt")?;
            line.amount = Some(Amount { value, currency });
        }
        "Cdtr/Nm" => line.creditor.name = Some(reader.read_text()?),
        "CdtrAcct/Id/IBAN" | "CdtrAcct/Id/Othr/Id" => line.creditor.number = reader.read_text()?,
        "CdtrAgt/FinInstnId/BIC" | "CdtrAgt/FinInstnId/BICFI" => {
            line.creditor.bank_code = Some(reader.read_text()?)
        }
        "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId" | "CdtrAgt/FinInstnId/Othr/Id" => {
            if let Some(code) = bank_code(reader.read_text()?) {
                line.creditor.bank_code.get_or_insert(code);
            }
        }
        "CdtrAgt/FinInstnId/Nm" => line.creditor.bank_name = Some(reader.read_text()?),
        "RmtInf/Ustrd" => line.unstructured.push(reader.read_text()?),
        "RmtInf/Strd/CdtrRefInf/Ref" => line.structured_ref = Some(reader.read_text()?),
        _ => {}
    }
    Ok(())
}

impl LineBuilder {
    fn finish(self) -> Result<PaymentLine, ReadError> {
        let missing = |what: &str| ReadError::Invalid {
            position: self.position.clone(),
            message: format!("a CdtTrfTxInf without {what}"),
        };
        let end_to_end_id = self
            .end_to_end_id
            .clone()
            .ok_or_else(|| missing("EndToEndId"))?;
        let amount = self.amount.clone().ok_or_else(|| missing("InstdAmt"))?;
        let remittance = if self.unstructured.is_empty() {
            self.structured_ref
        } else {
            Some(self.unstructured.join(" "))
        };
        Ok(PaymentLine {
            end_to_end_id,
            instruction_id: self.instruction_id,
            amount,
            creditor: self.creditor,
            remittance,
        })
    }
}

/// A bank code other than a BIC; `NOTPROVIDED` (the EPC placeholder for a
/// mandatory agent nobody named) is no code.
fn bank_code(text: String) -> Option<String> {
    (text != "NOTPROVIDED" && !text.is_empty()).then_some(text)
}

/// A non-negative decimal of at most 18 digits (the schema's totalDigits),
/// so that sums over a file cannot overflow.
fn read_decimal<R: std::io::BufRead>(
    reader: &mut XmlReader<R>,
    name: &str,
) -> Result<Decimal, ReadError> {
    let text = reader.read_text()?;
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let value = Decimal::from_str(&text)
        .ok()
        .filter(|v| digits <= 18 && !v.is_sign_negative());
    value.ok_or_else(|| {
        reader.invalid(format!(
            "{name} {text:?} is not a decimal amount of at most 18 digits"
        ))
    })
}

/// ISODateTime: with an offset or `Z` (read as written), or local (read at
/// +08:00, like every reader's default: [`ReadOptions::default`]).
pub(crate) fn parse_iso_date_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| ReadOptions::default().instant(naive))
}
