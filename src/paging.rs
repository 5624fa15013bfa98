//! Paging of list answers: `?limit=` and an opaque `?cursor=` taken from the
//! previous page's `next_cursor`. A list answers at most [`MAX_LIMIT`] items
//! at once, so no read grows with the size of a project.

use serde::Deserialize;

use crate::error::{AppError, ErrorCode};

/// Items per page when the query names no limit.
pub const DEFAULT_LIMIT: u32 = 200;
/// The most items one page may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// The paging parameters of a list request, as the query string gives them.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 1,000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

/// A checked page request: at most `limit` items after the item `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// The key of the last item of the previous page.
    pub after: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field(
                "limit",
                ErrorCode::InvalidQuery,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.cursor.as_deref() {
            None => None,
            // A cursor is a key this service gave out: a positive number.
            Some(c) => Some(c.parse::<i64>().ok().filter(|k| *k > 0).ok_or_else(|| {
                AppError::field(
                    "cursor",
                    ErrorCode::InvalidQuery,
                    "cursor is not one this service gave out; start again without it",
                )
            })?),
        };
        Ok(Page { limit, after })
    }
}

impl Page {
    /// Rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the fetched `items` to the page and names the cursor of the next
    /// page, if there is one; `key` gives an item's key.
    pub fn finish<T>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> i64,
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit as usize;
        if items.len() <= limit {
            return (items, None);
        }
        items.truncate(limit);
        let next = items.last().map(|last| key(last).to_string());
        (items, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<u32>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        let page = query(None, None).page().unwrap();
        assert_eq!(
            page,
            Page {
                limit: 200,
                after: None
            }
        );
        assert_eq!(query(Some(5), Some("42")).page().unwrap().after, Some(42));
        for bad in [query(Some(0), None), query(Some(1001), None)] {
            let e = bad.page().unwrap_err();
            assert_eq!(e.problem().and_then(|p| p.field.as_deref()), Some("limit"));
        }
        for cursor in ["x", "-1", "0", "99999999999999999999"] {
            let e = query(None, Some(cursor)).page().unwrap_err();
            assert_eq!(e.problem().and_then(|p| p.field.as_deref()), Some("cursor"));
        }
    }

    #[test]
    fn the_next_cursor_is_the_last_key_of_a_full_page() {
        let page = Page {
            limit: 2,
            after: None,
        };
        assert_eq!(page.fetch(), 3);
        let (items, next) = page.finish(vec![10, 11, 12], |i| *i);
        assert_eq!((items, next.as_deref()), (vec![10, 11], Some("11")));
        let (items, next) = page.finish(vec![10, 11], |i| *i);
        assert_eq!((items, next), (vec![10, 11], None));
    }
}
