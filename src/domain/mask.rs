//! Masking of personal data (ID, card and phone numbers) for logs, pages and
//! pay slips.
//!
//! A masked value keeps the length of the original so a reader can still tell
//! what kind of value it was. It must never be used to look anything up.

/// Replaces every character except the first `keep_start` and the last
/// `keep_end` with `*`, keeping the length in characters:
/// `mask_middle("6222021234567891234", 4, 4)` is `"6222***********1234"`.
///
/// When the value is too short to hide anything (at most
/// `keep_start + keep_end` characters), every character is masked: a masked
/// value must never reveal the whole value.
pub fn mask_middle(value: &str, keep_start: usize, keep_end: usize) -> String {
    let len = value.chars().count();
    if len <= keep_start.saturating_add(keep_end) {
        return "*".repeat(len);
    }
    let end_from = len - keep_end;
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= end_from {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// 手机号码: masks a mobile phone number as `138****5678` (first 3 and last 4
/// characters kept). Surrounding whitespace is trimmed first.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone.trim(), 3, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_keeps_prefix_and_last_four() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone(" 13812345678 "), "138****5678");
    }

    #[test]
    fn middle_is_masked_and_length_kept() {
        assert_eq!(
            mask_middle("110105194912310021", 4, 4),
            "1101**********0021"
        );
        assert_eq!(mask_middle("622202123456", 4, 4), "6222****3456");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(mask_middle("张三丰先生", 1, 1), "张***生");
    }

    #[test]
    fn too_short_values_are_masked_entirely() {
        assert_eq!(mask_middle("12345678", 4, 4), "********");
        assert_eq!(mask_middle("123", 4, 4), "***");
        assert_eq!(mask_middle("", 4, 4), "");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_middle("abc", usize::MAX, usize::MAX), "***");
    }
}
