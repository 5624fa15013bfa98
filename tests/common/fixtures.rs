//! Valid identifiers made on demand, and a registered cast (admin, owner,
//! contractor, subcontractors, regulator) with API keys.

use serde_json::{json, Value};

use super::TestApp;
use wagebridge::access::OrgKind;
use wagebridge::api::organizations::OrganizationInput;
use wagebridge::db;

/// The n-th valid resident ID number (born 1985, registered in 420111).
pub fn resident_id(n: u32) -> String {
    let body = format!("420111198503{:02}{:03}", 1 + n % 28, n % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// The n-th valid unified social credit code.
pub fn uscc(n: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91420100{:09}", 100_000_000 + n);
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| ALPHABET.iter().position(|&a| a == b).unwrap_or(0) as u32 * w)
        .sum();
    let check = ALPHABET[((31 - sum % 31) % 31) as usize] as char;
    format!("{body}{check}")
}

/// The n-th valid 16-digit bank card number (Luhn).
pub fn card(n: u32) -> String {
    let body = format!("622202{:09}", n);
    let mut sum = 0;
    for (i, b) in body.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// An organisation with a key.
#[derive(Debug, Clone)]
pub struct Party {
    pub uscc: String,
    pub name: String,
    pub key: String,
}

/// Registers an organisation straight in the database and issues it a key.
pub fn party(app: &TestApp, kind: OrgKind, n: u32, name: &str, region: Option<&str>) -> Party {
    let uscc = uscc(n);
    let input = OrganizationInput::parse(kind, name, &uscc, region).expect("valid organisation");
    let mut conn = app.pool.get().expect("connection");
    let now = app.clock.now();
    let org = input.store(&mut conn, None, now).expect("stored");
    let key = db::organizations::issue_key(&mut conn, org.id, now).expect("key");
    Party {
        uscc,
        name: name.to_owned(),
        key: key.secret,
    }
}

/// A project with its cast.
pub struct World {
    pub admin: Party,
    pub owner: Party,
    pub contractor: Party,
    pub sub: Party,
    pub other_sub: Party,
    pub other_contractor: Party,
    pub regulator: Party,
    pub other_regulator: Party,
    pub code: String,
}

pub const PROJECT_NAME: &str = "光谷科创中心一期";

pub fn project_body(code: &str, owner_uscc: &str) -> Value {
    json!({
        "code": code,
        "name": PROJECT_NAME,
        "region_code": "420111",
        "owner_uscc": owner_uscc,
        "contract_amount": "12000000.00",
        "contract_signed_on": "2026-03-01",
        "labour_cost_share_percent": "25",
        "labour_cost_due_day": 20,
        "payday": 15,
        "planned_start_on": "2026-03-15",
        "planned_end_on": "2027-06-30",
        "minimum_monthly_wage": "2210.00"
    })
}

/// Registers the cast and one project (`WH-2026-001`) with `sub` attached.
pub async fn world(app: &TestApp) -> World {
    let w = World {
        admin: party(app, OrgKind::Admin, 1, "wagebridge operations", None),
        owner: party(app, OrgKind::Owner, 2, "武汉光谷建设投资有限公司", None),
        contractor: party(
            app,
            OrgKind::Contractor,
            3,
            "中建三局第一建设工程有限责任公司",
            None,
        ),
        sub: party(app, OrgKind::Subcontractor, 4, "湖北楚天劳务有限公司", None),
        other_sub: party(app, OrgKind::Subcontractor, 5, "江夏建筑劳务有限公司", None),
        other_contractor: party(app, OrgKind::Contractor, 6, "另一建设集团有限公司", None),
        regulator: party(
            app,
            OrgKind::Regulator,
            7,
            "湖北省人力资源和社会保障厅",
            Some("420000"),
        ),
        other_regulator: party(
            app,
            OrgKind::Regulator,
            8,
            "北京市人力资源和社会保障局",
            Some("110000"),
        ),
        code: "WH-2026-001".to_owned(),
    };
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            &project_body(&w.code, &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &format!("/v1/projects/{}/subcontractors", w.code),
            &json!({ "uscc": w.sub.uscc }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    w
}

/// A roster row for the n-th worker, entering on 2026-03-15.
pub fn worker_row(n: u32) -> Value {
    json!({
        "id_number": resident_id(n),
        "name": format!("工人{n}"),
        "phone": format!("138{:08}", n),
        "card_number": card(n),
        "card_bank": "中国工商银行武汉光谷支行",
        "team": "钢筋班",
        "trade": "钢筋工",
        "contract_signed_on": "2026-03-10",
        "entered_on": "2026-03-15"
    })
}
