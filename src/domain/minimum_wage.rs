//! 最低工资标准: local monthly minimum wages, the default for a project's
//! minimum wage (the project may set its own) and for the notice board.
//!
//! The figures are compiled into the binary from `data/minimum_wage.csv`
//! (one row per province, tier and effective date, plus a separate row for
//! 深圳) and `data/minimum_wage_tier_areas.csv` (which areas are in which
//! tier, complete for 福建 and partial elsewhere). `data/SOURCES.md` lists
//! sources and gaps: 安徽 is missing, 湖北 and 宁夏 have no effective date,
//! and changes after early 2026 are probably missing. No network lookups.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use super::money::Money;
use super::region::{RegionCode, Regions};
use super::{read_reference_csv, ReferenceDataError};

const RATES_CSV: &str = include_str!("../../data/minimum_wage.csv");
const TIER_AREAS_CSV: &str = include_str!("../../data/minimum_wage_tier_areas.csv");

/// 最低工资标准: the monthly minimum wage in force for an area on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimumWage {
    /// 月最低工资标准, for full-time work. Most provinces count the worker's
    /// own social-insurance and housing-fund contributions inside it;
    /// 北京 and 上海 do not.
    pub monthly: Money,
    /// 非全日制小时最低工资标准: the part-time hourly minimum, where known.
    pub hourly: Option<Money>,
    /// 档: 1 is the highest-paying class of areas.
    pub tier: u8,
    /// How the tier was chosen.
    pub tier_basis: TierBasis,
    /// `None` where the source did not give the date (湖北, 宁夏).
    pub effective_from: Option<NaiveDate>,
    /// Whose standard this is: a province, or 440300 深圳 which sets its own.
    pub set_by: RegionCode,
    /// Where the figure was taken from (a URL).
    pub source: String,
    /// The source is a single secondary page or a draft (see SOURCES.md).
    pub low_confidence: bool,
}

/// How the tier of an area was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierBasis {
    /// The area, or a division above it, is listed in the tier mapping.
    Listed(RegionCode),
    /// The area is not listed, so the province's tier 1 (highest) figure is
    /// used: for most provinces the mapping is missing or partial, and the
    /// highest figure never lets an underpayment pass unnoticed.
    HighestTierAssumed,
}

/// The minimum wage tables, see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimumWageTable {
    rates: Vec<Rate>,
    tier_by_area: BTreeMap<RegionCode, u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rate {
    set_by: RegionCode,
    tier: u8,
    monthly: Money,
    hourly: Option<Money>,
    effective_from: Option<NaiveDate>,
    source: String,
    low_confidence: bool,
}

#[derive(Deserialize)]
struct RateRow {
    province_code: String,
    tier: u8,
    monthly_yuan: String,
    hourly_yuan: String,
    effective_from: String,
    source: String,
}

#[derive(Deserialize)]
struct TierAreaRow {
    province_code: String,
    tier: u8,
    area_code: String,
}

/// The monthly minimum wage for a region on a date, from the built-in
/// tables and region registry. See [`MinimumWageTable::monthly_minimum_wage`].
pub fn monthly_minimum_wage(region: &RegionCode, on: NaiveDate) -> Option<MinimumWage> {
    MinimumWageTable::get().monthly_minimum_wage(Regions::get(), region, on)
}

impl MinimumWageTable {
    /// The tables compiled into the binary, loaded on first use.
    pub fn get() -> &'static MinimumWageTable {
        static TABLE: OnceLock<MinimumWageTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The embedded files are checked by the tests below: failing here
            // means a broken build, not bad input.
            MinimumWageTable::from_csv(RATES_CSV, TIER_AREAS_CSV)
                .unwrap_or_else(|e| panic!("embedded minimum wage data is invalid: {e}"))
        })
    }

    /// Loads the tables from CSV text with the headers of
    /// `minimum_wage.csv` and `minimum_wage_tier_areas.csv`.
    pub fn from_csv(rates_csv: &str, tier_areas_csv: &str) -> Result<Self, ReferenceDataError> {
        const RATES: &str = "minimum_wage.csv";
        const AREAS: &str = "minimum_wage_tier_areas.csv";
        let rate_rows: Vec<(u64, RateRow)> = read_reference_csv(
            RATES,
            rates_csv,
            &[
                "province_code",
                "province",
                "tier",
                "monthly_yuan",
                "hourly_yuan",
                "effective_from",
                "source",
            ],
        )?;
        let mut rates: Vec<Rate> = Vec::with_capacity(rate_rows.len());
        for (line, row) in rate_rows {
            let error = |reason: String| ReferenceDataError {
                file: RATES,
                line,
                reason,
            };
            let set_by = RegionCode::parse(&row.province_code).map_err(|e| error(e.to_string()))?;
            let monthly = Money::parse(&row.monthly_yuan).map_err(|e| error(e.to_string()))?;
            if !monthly.is_positive() || row.tier == 0 {
                return Err(error("monthly figure and tier must be positive".to_owned()));
            }
            let hourly = match row.hourly_yuan.as_str() {
                "" => None,
                text => Some(Money::parse(text).map_err(|e| error(e.to_string()))?),
            };
            let effective_from = match row.effective_from.as_str() {
                "" => None,
                text => Some(
                    NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map_err(|e| error(format!("effective_from: {e}")))?,
                ),
            };
            let (source, low_confidence) = match row.source.split_once(" [low confidence") {
                Some((url, _)) => (url.trim().to_owned(), true),
                None => (row.source.trim().to_owned(), false),
            };
            let duplicate = rates.iter().any(|r| {
                r.set_by == set_by && r.tier == row.tier && r.effective_from == effective_from
            });
            if duplicate {
                return Err(error("duplicate province, tier and date".to_owned()));
            }
            rates.push(Rate {
                set_by,
                tier: row.tier,
                monthly,
                hourly,
                effective_from,
                source,
                low_confidence,
            });
        }

        let area_rows: Vec<(u64, TierAreaRow)> = read_reference_csv(
            AREAS,
            tier_areas_csv,
            &[
                "province_code",
                "tier",
                "area_code",
                "area_name",
                "coverage_note",
                "source",
            ],
        )?;
        let mut tier_by_area = BTreeMap::new();
        for (line, row) in area_rows {
            let error = |reason: String| ReferenceDataError {
                file: AREAS,
                line,
                reason,
            };
            let area = RegionCode::parse(&row.area_code).map_err(|e| error(e.to_string()))?;
            if area.province().as_str() != row.province_code {
                return Err(error(format!(
                    "{area} is not in province {}",
                    row.province_code
                )));
            }
            if tier_by_area.insert(area.clone(), row.tier).is_some() {
                return Err(error(format!("{area} is listed twice")));
            }
        }
        Ok(MinimumWageTable {
            rates,
            tier_by_area,
        })
    }

    /// The monthly minimum wage in force in `region` on `on`:
    ///
    /// 1. Whose standard: the nearest of the region itself, the divisions
    ///    above it and its province that has figures (so 深圳's districts get
    ///    深圳's own standard).
    /// 2. Which tier: that of the nearest listed area among the region and
    ///    the divisions above it; if none is listed, tier 1, the highest
    ///    ([`TierBasis::HighestTierAssumed`]).
    /// 3. Which figure: the one of that tier with the latest effective date
    ///    on or before `on`; a figure without a date counts as in force
    ///    since always, behind any dated one.
    ///
    /// `None` when there are no figures for the province (安徽, 台湾, 香港,
    /// 澳门), when `on` is before every known figure (the data holds only
    /// the latest standards), or when the listed tier has no figure.
    /// Special local rates noted only in the mapping's comments (塔什库尔干
    /// 1900) are not applied.
    pub fn monthly_minimum_wage(
        &self,
        regions: &Regions,
        region: &RegionCode,
        on: NaiveDate,
    ) -> Option<MinimumWage> {
        let mut chain: Vec<&RegionCode> = std::iter::once(region)
            .chain(regions.ancestors(region).map(|r| &r.code))
            .collect();
        let province = region.province();
        if !chain.contains(&&province) {
            chain.push(&province);
        }

        let set_by = *chain
            .iter()
            .find(|code| self.rates.iter().any(|r| &&r.set_by == *code))?;
        let (tier, tier_basis) = chain
            .iter()
            .find_map(|code| {
                let tier = self.tier_by_area.get(*code)?;
                Some((*tier, TierBasis::Listed((*code).clone())))
            })
            .unwrap_or((1, TierBasis::HighestTierAssumed));

        let rate = self
            .rates
            .iter()
            .filter(|r| &r.set_by == set_by && r.tier == tier)
            .filter(|r| r.effective_from.is_none_or(|from| from <= on))
            .max_by_key(|r| r.effective_from)?;
        Some(MinimumWage {
            monthly: rate.monthly,
            hourly: rate.hourly,
            tier,
            tier_basis,
            effective_from: rate.effective_from,
            set_by: rate.set_by.clone(),
            source: rate.source.clone(),
            low_confidence: rate.low_confidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn wage(region: &str, on: &str) -> Option<MinimumWage> {
        monthly_minimum_wage(&code(region), date(on))
    }

    fn monthly(region: &str, on: &str) -> Option<String> {
        wage(region, on).map(|w| w.monthly.to_string())
    }

    #[test]
    fn unlisted_area_gets_the_provinces_highest_tier() {
        let w = wage("110101", "2026-01-01").unwrap();
        assert_eq!(w.monthly.to_string(), "2540.00");
        assert_eq!(w.hourly.map(|h| h.to_string()), Some("27.70".to_owned()));
        assert_eq!(w.tier, 1);
        assert_eq!(w.tier_basis, TierBasis::HighestTierAssumed);
        assert_eq!(w.effective_from, Some(date("2025-09-01")));
        assert_eq!(w.set_by, code("110000"));
        assert!(w.source.starts_with("https://"));
        assert!(!w.low_confidence);
    }

    #[test]
    fn nothing_is_known_before_the_first_effective_date() {
        assert_eq!(monthly("110101", "2025-08-31"), None);
        assert_eq!(monthly("110101", "2025-09-01"), Some("2540.00".to_owned()));
    }

    #[test]
    fn listed_areas_use_their_tier() {
        // 东莞: whole city in tier 2.
        let dongguan = wage("441900", "2026-01-01").unwrap();
        assert_eq!(
            (dongguan.tier, dongguan.monthly.to_string()),
            (2, "2080.00".to_owned())
        );
        assert_eq!(dongguan.tier_basis, TierBasis::Listed(code("441900")));
        // 福建 counties, complete list: 思明区 tier 1, and a tier-4 county.
        assert_eq!(monthly("350203", "2026-01-01"), Some("2265.00".to_owned()));
        let tier4 = MinimumWageTable::get()
            .tier_by_area
            .iter()
            .find(|(area, tier)| area.as_str().starts_with("35") && **tier == 4)
            .map(|(area, _)| area.clone())
            .unwrap();
        let w = monthly_minimum_wage(&tier4, date("2026-01-01")).unwrap();
        assert_eq!((w.tier, w.monthly.to_string()), (4, "1895.00".to_owned()));
        // 石河子, directly under 新疆: tier 2.
        assert_eq!(monthly("659001", "2026-01-01"), Some("1890.00".to_owned()));
    }

    #[test]
    fn counties_inherit_the_tier_of_a_listed_city() {
        // 农安县 under 长春市 (tier 1), 广州 天河区 under 广州市 (tier 1).
        let w = wage("220122", "2026-01-01").unwrap();
        assert_eq!(
            (w.tier, w.tier_basis),
            (1, TierBasis::Listed(code("220100")))
        );
        assert_eq!(w.monthly.to_string(), "2230.00");
        assert_eq!(monthly("440106", "2026-01-01"), Some("2500.00".to_owned()));
    }

    #[test]
    fn shenzhen_has_its_own_standard() {
        let w = wage("440304", "2026-01-01").unwrap();
        assert_eq!(w.monthly.to_string(), "2520.00");
        assert_eq!(w.set_by, code("440300"));
        assert_eq!(w.tier_basis, TierBasis::Listed(code("440300")));
    }

    #[test]
    fn undated_figures_apply_on_any_date_and_are_flagged() {
        let w = wage("420102", "2020-01-01").unwrap();
        assert_eq!(w.monthly.to_string(), "2210.00");
        assert_eq!(w.effective_from, None);
        assert!(w.low_confidence);
        assert!(!w.source.contains("low confidence"));
    }

    #[test]
    fn missing_provinces_and_unknown_codes() {
        assert_eq!(wage("340102", "2026-01-01"), None); // 安徽: missing
        assert_eq!(wage("710000", "2026-01-01"), None); // 台湾
                                                        // A code not in the registry still gets its province's standard.
        assert_eq!(monthly("420199", "2026-01-01"), Some("2210.00".to_owned()));
    }

    #[test]
    fn embedded_data_is_consistent_with_the_region_registry() {
        let table = MinimumWageTable::get();
        let regions = Regions::get();
        assert_eq!(table.rates.len(), 72);
        assert_eq!(table.tier_by_area.len(), 141);
        for rate in &table.rates {
            assert!(regions.exists(&rate.set_by), "{}", rate.set_by);
        }
        for (area, tier) in &table.tier_by_area {
            assert!(regions.exists(area), "{area}");
            let w = monthly_minimum_wage(area, date("2026-06-01"))
                .unwrap_or_else(|| panic!("no figure for listed area {area}"));
            assert_eq!(w.tier, *tier, "{area}");
        }
    }

    #[test]
    fn malformed_data_is_reported() {
        let header = "province_code,province,tier,monthly_yuan,hourly_yuan,effective_from,source\n";
        let areas = "province_code,tier,area_code,area_name,coverage_note,source\n";
        let bad_amount = format!("{header}110000,北京市,1,2540.123,,2025-09-01,x\n");
        assert_eq!(
            MinimumWageTable::from_csv(&bad_amount, areas)
                .unwrap_err()
                .line,
            2
        );
        let bad_date = format!("{header}110000,北京市,1,2540,,2025-13-01,x\n");
        assert!(MinimumWageTable::from_csv(&bad_date, areas).is_err());
        let wrong_province = format!("{areas}420000,1,110101,东城区,,x\n");
        assert!(MinimumWageTable::from_csv(header, &wrong_province).is_err());
    }
}
