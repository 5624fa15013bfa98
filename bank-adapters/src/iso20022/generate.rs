//! A seeded generator of large, realistic camt.053.001.08 statements for
//! streaming tests and benchmarks: one wage account paying workers (debits),
//! funded now and then by the general contractor (credits), with the odd
//! returned wage (a reversal with a return reason) and a few pending entries.
//! [`generate_payment_batch`] makes the matching wage batch (the pain.001
//! side) from the same kind of seeded data.
//!
//! The same seed always gives the same bytes. The document is produced on
//! demand ([`camt053_source`] is a `BufRead`), so a statement of millions of
//! entries never sits in memory. The balances chain: opening + booked
//! credits − booked debits = closing, and `TxsSummry` states the true counts.

use std::io::{self, BufRead, Read, Write};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, PaymentBatch, PaymentLine,
    StatedSummary, Statement, StatementKind, TransactionDetail,
};

use super::camt_write::Camt053Writer;

/// Writes a generated camt.053 with `entries` entries to `writer`.
pub fn generate_camt053(mut writer: impl Write, entries: usize, seed: u64) -> io::Result<()> {
    let mut source = camt053_source(entries, seed);
    io::copy(&mut source, &mut writer)?;
    Ok(())
}

/// A generated camt.053 with `entries` entries, as a reader that produces
/// the document as it is read.
pub fn camt053_source(entries: usize, seed: u64) -> impl BufRead {
    Camt053Source {
        seed,
        total: entries,
        next: 0,
        writer: None,
        chunk: Vec::new(),
        position: 0,
        done: false,
    }
}

/// Entries generated per chunk handed to the reader.
const ENTRIES_PER_CHUNK: usize = 64;

struct Camt053Source {
    seed: u64,
    total: usize,
    next: usize,
    writer: Option<Camt053Writer>,
    chunk: Vec<u8>,
    position: usize,
    done: bool,
}

impl Camt053Source {
    fn refill(&mut self) -> io::Result<()> {
        let fail = |e: crate::error::WriteError| io::Error::other(e.to_string());
        self.chunk.clear();
        self.position = 0;
        let Some(writer) = self.writer.as_mut() else {
            // First chunk: header with balances and summary from a dry run.
            let statement = statement_header(self.seed, self.total);
            let created = statement.created_at.unwrap_or_default();
            let mut writer = Camt053Writer::new(&format!("WB-CAMT-{:016X}", self.seed), created)
                .map_err(fail)?;
            writer.statement_start(&statement).map_err(fail)?;
            writer.drain_into(&mut self.chunk)?;
            self.writer = Some(writer);
            return Ok(());
        };
        if self.next < self.total {
            let until = (self.next + ENTRIES_PER_CHUNK).min(self.total);
            for index in self.next..until {
                writer.entry(&entry(self.seed, index)).map_err(fail)?;
            }
            self.next = until;
            writer.drain_into(&mut self.chunk)?;
        } else if let Some(writer) = self.writer.take() {
            self.chunk
                .extend_from_slice(writer.finish().map_err(fail)?.as_bytes());
            self.done = true;
        }
        Ok(())
    }
}

impl Read for Camt053Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Camt053Source {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.position >= self.chunk.len() && !(self.done && self.writer.is_none()) {
            self.refill()?;
        }
        Ok(&self.chunk[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.chunk.len());
    }
}

/// A wage batch of `lines` lines for `seed`: the same arguments always give
/// the same batch. Workers' names, cards and banks vary line by line;
/// wages are 2,000.00 to 11,999.99 yuan.
pub fn generate_payment_batch(lines: usize, seed: u64) -> PaymentBatch {
    let date = first_day(seed);
    let created_at = Utc.from_utc_datetime(&date.and_hms_opt(1, 30, 0).unwrap_or_default());
    let month = date.format("%Y-%m").to_string();
    let lines = (0..lines)
        .map(|index| {
            // A stream of its own, apart from the statement entries'.
            let mut rng = Rng::new(seed ^ 0x5041_494E_3030_3121, index as u64);
            let name = format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN));
            let card = format!("62220{:014}", rng.below(100_000_000_000_000));
            let (bank_code, bank_name) = BANKS[rng.below(BANKS.len() as u64) as usize];
            PaymentLine {
                end_to_end_id: format!("WB{:08X}L{index:09}", seed as u32),
                instruction_id: None,
                amount: Amount::cny(Decimal::new(200_000 + rng.below(1_000_000) as i64, 2)),
                creditor: AccountRef {
                    number: card,
                    name: Some(name),
                    bank_code: Some(bank_code.to_owned()),
                    bank_name: Some(bank_name.to_owned()),
                },
                remittance: Some(format!("{month} 工资")),
            }
        })
        .collect();
    PaymentBatch {
        message_id: format!("WB-B-{:016X}", seed),
        created_at,
        requested_execution_date: date,
        initiating_party: "中建某局第三工程有限公司".to_owned(),
        debtor: AccountRef {
            number: "0200001019200099999".to_owned(),
            name: Some("某某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: Some("中国工商银行股份有限公司北京分行".to_owned()),
        },
        lines,
    }
}

/// SplitMix64: tiny, seedable, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: u64) -> Self {
        let mut rng = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "强", "军", "磊", "洋", "勇", "建国", "志强", "海峰", "小明", "春生", "国庆",
];
const BANKS: [(&str, &str); 4] = [
    ("102100099996", "中国工商银行股份有限公司北京分行"),
    ("103100000026", "中国农业银行股份有限公司北京分行"),
    ("105100000017", "中国建设银行股份有限公司北京分行"),
    ("ICBKCNBJXXX", "INDUSTRIAL AND COMMERCIAL BANK OF CHINA"),
];

fn first_day(seed: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + Duration::days((seed % 300) as i64)
}

/// Entry `index` of the statement for `seed`; the same arguments always
/// give the same entry.
fn entry(seed: u64, index: usize) -> Entry {
    let mut rng = Rng::new(seed, index as u64);
    let date = first_day(seed);
    let roll = rng.below(1000);
    let (direction, reversal, status) = match roll {
        0..=19 => (Direction::Credit, false, EntryStatus::Booked),
        20..=24 => (Direction::Credit, true, EntryStatus::Booked),
        25..=34 => (Direction::Debit, false, EntryStatus::Pending),
        _ => (Direction::Debit, false, EntryStatus::Booked),
    };
    let wage = Decimal::new(200_000 + rng.below(1_000_000) as i64, 2);
    let amount = if direction == Direction::Credit && !reversal {
        // The contractor tops the account up for about fifty wages at a time.
        Decimal::new(30_000_000 + rng.below(10_000_000) as i64, 2)
    } else {
        wage
    };
    let worker = format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN));
    let card = format!("62220{:014}", rng.below(100_000_000_000_000));
    let (bank_code, bank_name) = BANKS[rng.below(BANKS.len() as u64) as usize];
    let counterparty = if direction == Direction::Credit && !reversal {
        AccountRef {
            number: "0200001019200012345".to_owned(),
            name: Some("中建某局第三工程有限公司".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: None,
        }
    } else {
        AccountRef {
            number: card,
            name: Some(worker),
            bank_code: Some(bank_code.to_owned()),
            bank_name: Some(bank_name.to_owned()),
        }
    };
    let end_to_end = format!("WB{:08X}L{index:09}", seed as u32);
    let transaction = TransactionDetail {
        amount: Some(Amount::cny(amount)),
        direction: Some(direction),
        end_to_end_id: Some(end_to_end.clone()),
        message_id: Some(format!("WB{:08X}B{:05}", seed as u32, index / 5000)),
        payment_information_id: None,
        instruction_id: Some(end_to_end),
        account_servicer_reference: Some(format!("ICBC{index:012}")),
        counterparty: Some(counterparty),
        remittance: Some(if reversal {
            format!("退回 {} 工资", date.format("%Y-%m"))
        } else if direction == Direction::Credit {
            "农民工工资专用账户 拨付".to_owned()
        } else {
            format!("{} 工资", date.format("%Y-%m"))
        }),
        return_reason: reversal.then(|| "AC04".to_owned()),
    };
    Entry {
        amount: Amount::cny(amount),
        direction,
        status,
        reversal,
        booking_date: (status == EntryStatus::Booked).then_some(date),
        value_date: Some(date),
        booked_at: None,
        bank_reference: Some(format!("{index:010}")),
        account_servicer_reference: Some(format!("ICBC{index:012}")),
        additional_info: None,
        transactions: vec![transaction],
        batch: None,
    }
}

/// The statement header, balances and summary computed by generating every
/// entry once and keeping only its amount.
fn statement_header(seed: u64, total: usize) -> Statement {
    let date = first_day(seed);
    let opening = Decimal::new(500_000_000, 2);
    let mut summary = StatedSummary {
        entry_count: Some(total as u64),
        total_credits_count: Some(0),
        total_credits: Some(Decimal::ZERO),
        total_debits_count: Some(0),
        total_debits: Some(Decimal::ZERO),
    };
    let mut closing = opening;
    for index in 0..total {
        let entry = entry(seed, index);
        let value = entry.amount.value;
        let (count, sum) = match entry.direction {
            Direction::Credit => (&mut summary.total_credits_count, &mut summary.total_credits),
            Direction::Debit => (&mut summary.total_debits_count, &mut summary.total_debits),
        };
        *count = count.map(|n| n + 1);
        *sum = sum.map(|s| s + value);
        if entry.status == EntryStatus::Booked {
            closing += match entry.direction {
                Direction::Credit => value,
                Direction::Debit => -value,
            };
        }
    }
    let start: DateTime<Utc> =
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()) - Duration::hours(8);
    let balance = |value| Balance {
        amount: Amount::cny(value),
        date: Some(date),
    };
    Statement {
        kind: StatementKind::Statement,
        statement_id: format!("WB-STMT-{:016X}", seed),
        sequence_number: Some(seed % 100_000),
        created_at: Some(start + Duration::hours(24)),
        account: AccountRef {
            number: "0200001019200099999".to_owned(),
            name: Some("某某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: Some("中国工商银行股份有限公司北京分行".to_owned()),
        },
        currency: Some("CNY".to_owned()),
        from: Some(start),
        to: Some(start + Duration::hours(24) - Duration::seconds(1)),
        opening_balance: Some(balance(opening)),
        closing_balance: Some(balance(closing)),
        available_balance: Some(balance(closing)),
        stated_summary: Some(summary),
        entries: Vec::new(),
    }
}
