//! 行政区划代码: administrative region codes (GB/T 2260) and the registry
//! of divisions compiled into the binary from `data/regions.csv`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{read_reference_csv, ParseError, ReferenceDataError};

const WHAT: &str = "region code";

/// Divisions in force on 2024-12-31 (see `data/SOURCES.md`).
const REGIONS_CSV: &str = include_str!("../../data/regions.csv");

/// 行政区划代码: region code (GB/T 2260), six digits: province (2),
/// city (2), county (2), e.g. `420102` 江岸区 in `420100` 武汉市 in
/// `420000` 湖北省.
///
/// [`RegionCode::parse`] checks the shape only; use
/// [`Regions::parse_known`] where the division must exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses six ASCII digits (surrounding whitespace trimmed).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(ParseError::InvalidCharacter {
                what: WHAT,
                position: i + 1,
                found: c,
                allowed: "a region code is six digits",
            });
        }
        if s.len() != 6 {
            return Err(ParseError::InvalidLength {
                what: WHAT,
                expected: "6",
                actual: s.len(),
            });
        }
        Ok(RegionCode(s.to_owned()))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province part as a code of its own: `420102` → `420000`.
    pub fn province(&self) -> RegionCode {
        let mut code = self.0.get(..2).unwrap_or("00").to_owned();
        code.push_str("0000");
        RegionCode(code)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RegionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for RegionCode {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> String {
        code.0
    }
}

/// Level of a division: 省级 province, 地级 city (prefecture), 县级 county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    /// 省级: province, autonomous region, municipality, SAR.
    Province,
    /// 地级: prefecture-level city, prefecture, league.
    City,
    /// 县级: district, county, county-level city, banner.
    County,
}

impl RegionLevel {
    /// `province`, `city` or `county`, as in `regions.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
        }
    }
}

/// One administrative division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: RegionCode,
    /// Official Chinese name, e.g. `江岸区`.
    pub name: String,
    pub level: RegionLevel,
    /// The division directly above; `None` for provinces. Districts of the
    /// four municipalities and province-administered county-level units
    /// point straight at their province.
    pub parent: Option<RegionCode>,
}

/// Registry of administrative divisions (GB/T 2260 as of 2024-12-31):
/// 34 provinces, 333 cities and 2,846 counties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regions {
    by_code: BTreeMap<RegionCode, Region>,
}

#[derive(Deserialize)]
struct RegionRow {
    code: String,
    name: String,
    level: String,
    parent_code: String,
}

impl Regions {
    /// The registry compiled into the binary, loaded on first use.
    pub fn get() -> &'static Regions {
        static REGIONS: OnceLock<Regions> = OnceLock::new();
        REGIONS.get_or_init(|| {
            // The embedded file is checked by the tests below: failing here
            // means a broken build, not bad input.
            Regions::from_csv(REGIONS_CSV)
                .unwrap_or_else(|e| panic!("embedded regions.csv is invalid: {e}"))
        })
    }

    /// Parses a region code and requires it to exist in the built-in
    /// registry ([`Regions::get`]).
    pub fn parse_known(s: &str) -> Result<RegionCode, ParseError> {
        let code = RegionCode::parse(s)?;
        if Regions::get().exists(&code) {
            Ok(code)
        } else {
            Err(ParseError::UnknownRegion(code))
        }
    }

    /// Loads a registry from CSV text with the header
    /// `code,name,level,parent_code`. Every parent must exist and be of a
    /// higher level, which also rules out cycles.
    pub fn from_csv(text: &str) -> Result<Regions, ReferenceDataError> {
        const FILE: &str = "regions.csv";
        let error = |line: u64, reason: String| ReferenceDataError {
            file: FILE,
            line,
            reason,
        };
        let rows: Vec<(u64, RegionRow)> =
            read_reference_csv(FILE, text, &["code", "name", "level", "parent_code"])?;

        let mut by_code = BTreeMap::new();
        let mut lines = BTreeMap::new();
        for (line, row) in rows {
            let code = RegionCode::parse(&row.code).map_err(|e| error(line, e.to_string()))?;
            let level = match row.level.as_str() {
                "province" => RegionLevel::Province,
                "city" => RegionLevel::City,
                "county" => RegionLevel::County,
                other => return Err(error(line, format!("unknown level {other:?}"))),
            };
            let parent = match row.parent_code.as_str() {
                "" => None,
                parent => Some(RegionCode::parse(parent).map_err(|e| error(line, e.to_string()))?),
            };
            if row.name.trim().is_empty() {
                return Err(error(line, "empty name".to_owned()));
            }
            if (level == RegionLevel::Province) != parent.is_none() {
                return Err(error(
                    line,
                    "exactly the provinces have no parent".to_owned(),
                ));
            }
            let region = Region {
                code: code.clone(),
                name: row.name,
                level,
                parent,
            };
            lines.insert(code.clone(), line);
            if by_code.insert(code.clone(), region).is_some() {
                return Err(error(line, format!("duplicate code {code}")));
            }
        }

        for region in by_code.values() {
            if let Some(parent) = &region.parent {
                let line = lines.get(&region.code).copied().unwrap_or(0);
                match by_code.get(parent) {
                    None => return Err(error(line, format!("unknown parent {parent}"))),
                    Some(p) if p.level >= region.level => {
                        return Err(error(
                            line,
                            format!("parent {parent} is not a higher level"),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(Regions { by_code })
    }

    /// The division with this code, if it exists.
    pub fn region(&self, code: &RegionCode) -> Option<&Region> {
        self.by_code.get(code)
    }

    /// Whether the division exists.
    pub fn exists(&self, code: &RegionCode) -> bool {
        self.by_code.contains_key(code)
    }

    /// The Chinese name of the division, e.g. `江岸区`.
    pub fn name(&self, code: &RegionCode) -> Option<&str> {
        self.region(code).map(|r| r.name.as_str())
    }

    /// The division directly above (`None` for a province or an unknown code).
    pub fn parent(&self, code: &RegionCode) -> Option<&RegionCode> {
        self.region(code)?.parent.as_ref()
    }

    /// The divisions above this one, nearest first, not including itself:
    /// `420102` → `420100`, `420000`. Empty for a province or unknown code.
    pub fn ancestors<'a>(&'a self, code: &RegionCode) -> Ancestors<'a> {
        Ancestors {
            regions: self,
            next: self.parent(code),
        }
    }

    /// Whether `code` lies in `region`: it is the region itself or one of its
    /// ancestors is. An unknown code lies only within itself.
    pub fn is_within(&self, code: &RegionCode, region: &RegionCode) -> bool {
        code == region || self.ancestors(code).any(|a| &a.code == region)
    }

    /// The region and every division under it, in code order ("this region
    /// and everything under it").
    pub fn within(&self, region: &RegionCode) -> impl Iterator<Item = &Region> + '_ {
        let region = region.clone();
        self.by_code
            .values()
            .filter(move |r| self.is_within(&r.code, &region))
    }

    /// Every division, in code order.
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.by_code.values()
    }

    /// Number of divisions.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

/// Iterator over the divisions above a region, see [`Regions::ancestors`].
#[derive(Debug, Clone)]
pub struct Ancestors<'a> {
    regions: &'a Regions,
    next: Option<&'a RegionCode>,
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a Region;

    fn next(&mut self) -> Option<&'a Region> {
        let region = self.regions.region(self.next.take()?)?;
        self.next = region.parent.as_ref();
        Some(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn region_codes_are_six_digits() {
        assert_eq!(code(" 420102 ").as_str(), "420102");
        for (input, expected) in [
            ("", "EMPTY"),
            ("42010", "INVALID_LENGTH"),
            ("4201020", "INVALID_LENGTH"),
            ("42010A", "INVALID_CHARACTER"),
            ("４２０１０２", "INVALID_CHARACTER"),
        ] {
            assert_eq!(
                RegionCode::parse(input).unwrap_err().code(),
                expected,
                "{input}"
            );
        }
        assert_eq!(code("420102").province(), code("420000"));
    }

    #[test]
    fn embedded_registry_loads_with_official_counts() {
        let regions = Regions::get();
        let count = |level| regions.iter().filter(|r| r.level == level).count();
        assert_eq!(count(RegionLevel::Province), 34);
        assert_eq!(count(RegionLevel::City), 333);
        assert_eq!(count(RegionLevel::County), 2846);
        assert_eq!(regions.len(), 3213);
    }

    #[test]
    fn names_and_parents_are_looked_up() {
        let regions = Regions::get();
        assert_eq!(regions.name(&code("420102")), Some("江岸区"));
        assert_eq!(regions.name(&code("420100")), Some("武汉市"));
        assert_eq!(regions.parent(&code("420102")), Some(&code("420100")));
        assert_eq!(regions.parent(&code("420000")), None);
        let ancestors: Vec<&str> = regions
            .ancestors(&code("420102"))
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(ancestors, ["420100", "420000"]);
    }

    #[test]
    fn cities_and_counties_are_within_their_province() {
        let regions = Regions::get();
        assert!(regions.is_within(&code("420100"), &code("420000")));
        assert!(regions.is_within(&code("420102"), &code("420000")));
        assert!(regions.is_within(&code("420102"), &code("420100")));
        assert!(regions.is_within(&code("110101"), &code("110000")));
        // Province-administered county-level city: 仙桃 directly under 湖北.
        assert!(regions.is_within(&code("429004"), &code("420000")));
        assert!(regions.is_within(&code("420000"), &code("420000")));
        assert!(!regions.is_within(&code("420000"), &code("420100")));
        assert!(!regions.is_within(&code("430102"), &code("420000")));
        assert!(!regions.is_within(&code("420102"), &code("420200")));
    }

    #[test]
    fn unknown_codes_do_not_exist_and_are_only_within_themselves() {
        let regions = Regions::get();
        assert!(!regions.exists(&code("999999")));
        assert!(regions.exists(&code("110101")));
        assert!(regions.is_within(&code("999999"), &code("999999")));
        assert!(!regions.is_within(&code("420199"), &code("420000")));
        assert_eq!(regions.ancestors(&code("999999")).count(), 0);
    }

    #[test]
    fn parse_known_requires_an_existing_division() {
        assert_eq!(Regions::parse_known("420102"), Ok(code("420102")));
        let err = Regions::parse_known("999999").unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_REGION");
        assert_eq!(
            Regions::parse_known("9999").unwrap_err().code(),
            "INVALID_LENGTH"
        );
    }

    #[test]
    fn within_lists_a_region_and_everything_under_it() {
        let regions = Regions::get();
        let wuhan: Vec<&str> = regions
            .within(&code("420100"))
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(wuhan.first(), Some(&"420100"));
        assert!(wuhan.contains(&"420102"));
        assert!(wuhan.iter().all(|c| c.starts_with("4201")));
        assert_eq!(regions.within(&code("110000")).count(), 17); // 北京 and its 16 districts
    }

    #[test]
    fn malformed_data_is_reported_with_its_line() {
        let missing_parent = "code,name,level,parent_code\n420102,江岸区,county,420100\n";
        let err = Regions::from_csv(missing_parent).unwrap_err();
        assert_eq!(err.line, 2);
        let wrong_header = "code,name\n420000,湖北省\n";
        assert!(Regions::from_csv(wrong_header).is_err());
        let cycle = "code,name,level,parent_code\n420000,湖北省,province,\n420100,武汉市,city,420102\n420102,江岸区,county,420100\n";
        assert!(Regions::from_csv(cycle).is_err());
    }

    #[test]
    fn serde_uses_the_plain_code() {
        let c: RegionCode = serde_json::from_str("\"420102\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"420102\"");
        assert!(serde_json::from_str::<RegionCode>("\"42010\"").is_err());
        assert_eq!(
            serde_json::to_string(&RegionLevel::City).unwrap(),
            "\"city\""
        );
    }
}
