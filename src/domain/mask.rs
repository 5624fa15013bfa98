//! Masking of personal data (ID, card and phone numbers) for logs, pages and
//! pay slips.
//!
//! A masked value keeps the length of the original so a reader can still tell
//! what kind of value it was. It must never be used to look anything up.
//!
//! [`mask_numbers`] is the one function that finds such numbers inside free
//! text (an error message, a log line, a path); [`excerpt`] also bounds the
//! text, for whatever repeats input back to a client or into a log.

use std::borrow::Cow;

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

/// Fewest digits a run needs to be masked: below this it is a date, an amount
/// or a count. 11 and 12 digits are a mobile (or fixed-line) phone number.
const PHONE_DIGITS: usize = 11;
/// From this many digits a run is a bank card (13–19) or an ID number (18).
const CARD_DIGITS: usize = 13;
/// Digit groups written apart (`6222 0212 3456 7890`) are joined only when
/// both have at least this many digits, so `2026-10-01 8` stays a date.
const GROUP_DIGITS: usize = 3;

/// Masks every number in `text` shaped like personal data: runs of 13 or more
/// digits (a bank card, an ID number, with the trailing `X`/`x` of an ID)
/// keep their first 4 and last 4 characters (`1101**********0012`); runs of
/// 11–12 digits (a phone number) keep their first 3 and last 4. Groups of
/// digits separated by one space or hyphen count as one number, as cards and
/// IDs are often written. Text without such a number is borrowed unchanged.
pub fn mask_numbers(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (end, digits) = number_at(bytes, i);
        let keep_start = match digits {
            d if d >= CARD_DIGITS => 4,
            d if d >= PHONE_DIGITS => 3,
            _ => {
                i = end;
                continue;
            }
        };
        let buf = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
        buf.extend_from_slice(&bytes[copied..i]);
        mask_digits(&bytes[i..end], digits, keep_start, buf);
        copied = end;
        i = end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.extend_from_slice(&bytes[copied..]);
            // Only ASCII digits and `X` were replaced by `*`, so the text stays UTF-8.
            Cow::Owned(String::from_utf8(buf).unwrap_or_default())
        }
    }
}

/// The end of the number starting at `start` and how many of its characters
/// count (digits, and the check character `X` of a 17-digit ID body).
fn number_at(bytes: &[u8], start: usize) -> (usize, usize) {
    let run = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut group = run(start);
    let mut end = start + group;
    let mut digits = group;
    while group >= GROUP_DIGITS
        && matches!(bytes.get(end), Some(b' ' | b'-'))
        && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        let next = run(end + 1);
        if next < GROUP_DIGITS {
            break;
        }
        end += 1 + next;
        digits += next;
        group = next;
    }
    if digits == 17 && matches!(bytes.get(end), Some(b'X' | b'x')) {
        end += 1;
        digits += 1;
    }
    (end, digits)
}

/// Writes `number` with all but its first `keep_start` and last 4 counted
/// characters replaced by `*`; separators stay.
fn mask_digits(number: &[u8], counted: usize, keep_start: usize, out: &mut Vec<u8>) {
    let mut seen = 0;
    for &b in number {
        if b == b' ' || b == b'-' {
            out.push(b);
            continue;
        }
        let hidden = seen >= keep_start && seen + 4 < counted;
        out.push(if hidden { b'*' } else { b });
        seen += 1;
    }
}

/// Cuts `text` to at most `max_chars` characters, marking a cut with `…`
/// (which counts as one of them).
pub fn truncate_chars(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep = max_chars.saturating_sub(1);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &text[..end]))
        }
    }
}

/// Input as it may be repeated to a client or a log: numbers masked, then cut
/// to `max_chars`. Only a bounded prefix is read, so a megabyte costs nothing.
pub fn excerpt(text: &str, max_chars: usize) -> Cow<'_, str> {
    // A number cut at the end of the prefix is still masked: the prefix is
    // longer than what is kept by more than any number's length.
    let prefix_end = text
        .char_indices()
        .nth(max_chars.saturating_add(64))
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..prefix_end];
    match mask_numbers(head) {
        Cow::Borrowed(head) if prefix_end == text.len() => truncate_chars(head, max_chars),
        masked => {
            let cut = truncate_chars(&masked, max_chars).into_owned();
            if prefix_end < text.len() && !cut.ends_with('…') {
                Cow::Owned(format!("{cut}…"))
            } else {
                Cow::Owned(cut)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_cards_keep_first_and_last_four() {
        assert_eq!(mask_numbers("420111198503120012"), "4201**********0012");
        assert_eq!(mask_numbers("11010519491231002X,8"), "1101**********002X,8");
        assert_eq!(mask_numbers("11010519491231002x"), "1101**********002x");
        assert_eq!(mask_numbers("卡6228480000015"), "卡6228*****0015");
        assert_eq!(mask_numbers("6222021234567891234"), "6222***********1234");
        assert_eq!(
            mask_numbers("/v1/x/6228480000015/y?420111198503120012=1"),
            "/v1/x/6228*****0015/y?4201**********0012=1"
        );
    }

    #[test]
    fn phones_and_grouped_numbers_are_masked() {
        assert_eq!(mask_numbers("13999999999"), "139****9999");
        assert_eq!(mask_numbers("6222 0212 3456 7890"), "6222 **** **** 7890");
        assert_eq!(mask_numbers("420111-19850312-0012"), "4201**-********-0012");
    }

    #[test]
    fn dates_amounts_and_counts_are_left_alone() {
        for text in [
            "2026-10-01 8",
            "2026-10-01,2026-10-02",
            "第 3 行: 1200000.00",
            "WH-2026-001",
            "",
        ] {
            assert!(matches!(mask_numbers(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn no_whole_number_survives_anywhere_in_text() {
        let id = "420111198503120012";
        for text in [
            id.to_string(),
            format!("a{id}b"),
            format!("{id}{id}"),
            format!("姓名{id},2026-10-01,8"),
        ] {
            assert!(!mask_numbers(&text).contains(id), "{text}");
        }
    }

    #[test]
    fn excerpts_are_bounded_and_masked() {
        let long = format!("420111198503120012,{}", "x".repeat(1 << 20));
        let e = excerpt(&long, 200);
        assert_eq!(e.chars().count(), 200);
        assert!(e.starts_with("4201**********0012,") && e.ends_with('…'));
        assert_eq!(excerpt("姓名", 200), "姓名");
        assert_eq!(truncate_chars("张三丰先生", 3), "张三…");
        assert_eq!(truncate_chars("张三", 2), "张三");
        // A number straddling the cut is masked before it is cut.
        let straddling = format!("{}420111198503120012", "x".repeat(190));
        let e = excerpt(&straddling, 200);
        assert!(!e.contains("4201111985"), "{e}");
    }

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
