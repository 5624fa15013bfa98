//! 统一社会信用代码: unified social credit codes (GB 32100-2015).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::region::RegionCode;
use super::ParseError;

const WHAT: &str = "unified social credit code";

/// The 31 characters a code may contain; a character's value is its index.
/// I, O, Z, S and V are left out because they look like 1, 0, 2, 5 and U.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// 统一社会信用代码: unified social credit code of an organisation
/// (GB 32100-2015), e.g. of a general contractor or subcontractor.
///
/// 18 characters from `0-9` and the capital letters except I, O, Z, S, V:
/// position 1 is the registration authority (登记管理部门代码), 2 the kind of
/// organisation (机构类别代码), 3–8 the region code (登记管理机关行政区划码),
/// 9–17 the organisation code (主体标识码) and 18 a MOD 31 check character.
/// Lower-case input is accepted and upper-cased; surrounding whitespace is
/// trimmed. Only the alphabet and the check character are verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

impl Uscc {
    /// Parses a code, upper-casing it.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        let length = s.chars().count();
        if length != 18 {
            return Err(ParseError::InvalidLength {
                what: WHAT,
                expected: "18",
                actual: length,
            });
        }
        let mut values = [0u32; 18];
        for (i, c) in s.chars().enumerate() {
            values[i] = value_of(c.to_ascii_uppercase()).ok_or(ParseError::InvalidCharacter {
                what: WHAT,
                position: i + 1,
                found: c,
                allowed: "only digits and the letters A-Z except I, O, Z, S and V may be used",
            })?;
        }
        if check_value_of(&values[..17]) != values[17] {
            return Err(ParseError::InvalidCheckCharacter { what: WHAT });
        }
        Ok(Uscc(s.to_ascii_uppercase()))
    }

    /// The check character for the first 17 characters of a code, or `None`
    /// when `body` is not 17 characters of the alphabet (upper- or
    /// lower-case). Useful to build test data.
    pub fn check_character(body: &str) -> Option<char> {
        let values = body
            .chars()
            .map(|c| value_of(c.to_ascii_uppercase()))
            .collect::<Option<Vec<u32>>>()?;
        if values.len() != 17 {
            return None;
        }
        character_of(check_value_of(&values))
    }

    /// The code, 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1, 登记管理部门代码: the registration authority
    /// (`9` market regulation for companies, `1` organisation departments, ...).
    pub fn registration_authority_code(&self) -> char {
        self.nth(0)
    }

    /// Position 2, 机构类别代码: the kind of organisation within its authority
    /// (`1` company, `2` sole proprietorship, `3` farmers' cooperative, ...).
    pub fn organization_category_code(&self) -> char {
        self.nth(1)
    }

    /// Positions 3–8: the region where the organisation was registered.
    /// Informational only: `None` if these are not six digits (the standard
    /// says they are, but the check character does not enforce it).
    pub fn region_code(&self) -> Option<RegionCode> {
        RegionCode::parse(self.0.get(2..8)?).ok()
    }

    fn nth(&self, index: usize) -> char {
        // The code is 18 ASCII characters, so `index < 18` always exists.
        self.0
            .as_bytes()
            .get(index)
            .copied()
            .map_or('?', char::from)
    }
}

fn value_of(c: char) -> Option<u32> {
    let byte = u8::try_from(c).ok()?;
    ALPHABET
        .iter()
        .position(|&a| a == byte)
        .and_then(|v| u32::try_from(v).ok())
}

fn character_of(value: u32) -> Option<char> {
    ALPHABET
        .get(usize::try_from(value).ok()?)
        .copied()
        .map(char::from)
}

/// `31 - (weighted sum mod 31)`, with 31 written as 0.
fn check_value_of(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uscc {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Uscc {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for Uscc {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<Uscc> for String {
    fn from(code: Uscc) -> String {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REFERENCE_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    /// Independent reference: GB 32100-2015 section 5 from its definition,
    /// weights 3^(i-1) mod 31 and check value 31 - (sum mod 31).
    fn reference_check(body: &str) -> char {
        let mut sum = 0u64;
        let mut weight = 1u64;
        for c in body.chars() {
            let value = REFERENCE_ALPHABET.find(c).unwrap() as u64;
            sum += value * weight;
            weight = weight * 3 % 31;
        }
        let check = match 31 - sum % 31 {
            31 => 0,
            v => v,
        };
        REFERENCE_ALPHABET.chars().nth(check as usize).unwrap()
    }

    /// Real codes of well-known companies, as printed on their licences.
    const REAL_CODES: [&str; 8] = [
        "91350100M000100Y43",
        "91110000710925462X",
        "91330100716105852F",
        "9144030071526726XG",
        "914403001922038216",
        "91310000717854505W",
        "91440300708461136T",
        "91110108551385082Q",
    ];

    const GENERATED_BODIES: [&str; 14] = [
        "91420100MA4K0000A",
        "91110105000000000",
        "12100000400000000",
        "51110000500000000",
        "Y2420000MB1234567",
        "93330100MA27XYWUT",
        "92440300L12345678",
        "31110000400012345",
        "N1420102MC0000001",
        "11100000000013127",
        "91500000MA5U7HJ4D",
        "91650100MA77R1234",
        "52100000500012345",
        "A1110000123456789",
    ];

    #[test]
    fn real_and_generated_codes_parse() {
        let mut count = 0;
        for code in REAL_CODES {
            assert_eq!(reference_check(&code[..17]).to_string(), &code[17..]);
            assert_eq!(Uscc::parse(code).unwrap().as_str(), code);
            count += 1;
        }
        for body in GENERATED_BODIES {
            let code = format!("{body}{}", reference_check(body));
            let parsed = Uscc::parse(&code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), code);
            count += 1;
        }
        assert!(count >= 20);
    }

    #[test]
    fn lowercase_and_whitespace_are_normalised() {
        let code = Uscc::parse(" 9144030071526726xg ").unwrap();
        assert_eq!(code.as_str(), "9144030071526726XG");
    }

    #[test]
    fn parts_of_the_code_are_exposed() {
        let code = Uscc::parse("91110108551385082Q").unwrap();
        assert_eq!(code.registration_authority_code(), '9');
        assert_eq!(code.organization_category_code(), '1');
        assert_eq!(code.region_code().unwrap().as_str(), "110108");
        let odd = format!("91AB0000MA4K0000A{}", reference_check("91AB0000MA4K0000A"));
        assert_eq!(Uscc::parse(&odd).unwrap().region_code(), None);
    }

    #[test]
    fn invalid_codes_are_rejected_with_a_code() {
        let cases: [(&str, &str); 22] = [
            ("", "EMPTY"),
            (" \t ", "EMPTY"),
            ("91110108551385082", "INVALID_LENGTH"),
            ("91110108551385082QQ", "INVALID_LENGTH"),
            ("551385082", "INVALID_LENGTH"),
            ("91110108551385082I", "INVALID_CHARACTER"),
            ("9111010855138508OQ", "INVALID_CHARACTER"),
            ("91110108551385Z82Q", "INVALID_CHARACTER"),
            ("S1110108551385082Q", "INVALID_CHARACTER"),
            ("91110108551385082V", "INVALID_CHARACTER"),
            ("9111010855138508-Q", "INVALID_CHARACTER"),
            ("9111010855138508２Q", "INVALID_CHARACTER"),
            ("911101085513 5082Q", "INVALID_CHARACTER"),
            ("91110108551385082R", "INVALID_CHECK_CHARACTER"),
            ("91110108551385082A", "INVALID_CHECK_CHARACTER"),
            ("91110108551385083Q", "INVALID_CHECK_CHARACTER"),
            ("81110108551385082Q", "INVALID_CHECK_CHARACTER"),
            ("91110108515385082Q", "INVALID_CHECK_CHARACTER"), // transposition
            ("914403001922038217", "INVALID_CHECK_CHARACTER"),
            ("91330100716105852E", "INVALID_CHECK_CHARACTER"),
            ("000000000000000001", "INVALID_CHECK_CHARACTER"),
            ("9144030071526726XH", "INVALID_CHECK_CHARACTER"),
        ];
        for (input, code) in cases {
            let err = Uscc::parse(input).expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
    }

    #[test]
    fn serde_round_trip_goes_through_parse() {
        let code: Uscc = serde_json::from_str("\"91110108551385082q\"").unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"91110108551385082Q\""
        );
        assert!(serde_json::from_str::<Uscc>("\"91110108551385082R\"").is_err());
    }

    fn body() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(REFERENCE_ALPHABET.chars().collect::<Vec<_>>()),
            17,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_body_with_its_check_character_parses(body in body()) {
            let code = format!("{body}{}", reference_check(&body));
            prop_assert_eq!(Uscc::parse(&code).map(String::from), Ok(code.clone()));
            prop_assert_eq!(Uscc::parse(&code.to_lowercase()).map(String::from), Ok(code));
            prop_assert_eq!(Uscc::check_character(&body), Some(reference_check(&body)));
        }

        #[test]
        fn any_single_character_substitution_is_detected(
            body in body(),
            position in 0usize..18,
            replacement in proptest::sample::select(REFERENCE_ALPHABET.chars().collect::<Vec<_>>()),
        ) {
            let code = format!("{body}{}", reference_check(&body));
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(
                Uscc::parse(&changed).map_err(|e| e.code()),
                Err("INVALID_CHECK_CHARACTER")
            );
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = Uscc::parse(&s);
        }
    }
}
