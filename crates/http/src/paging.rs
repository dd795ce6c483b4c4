//! Cursor pagination: `?limit=N&after=CURSOR`, answered with `{items, next}` where
//! `next` is the cursor of the following page (absent on the last page).

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Default page size.
pub const DEFAULT_LIMIT: u64 = 50;

/// Paging parameters of a list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl PageQuery {
    /// The page size asked for.
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// The page size asked for, refused (422 naming `limit`) outside 1 to 500.
    pub fn checked_limit(&self) -> Result<u64, ApiError> {
        let limit = self.limit();
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "limit: must be 1 to 500",
                Some("limit".to_owned()),
            ));
        }
        Ok(limit)
    }

    /// The cursor read as `T` (an id or a sequence number); a cursor that does not
    /// parse is a 400 naming `after`.
    pub fn after<T: std::str::FromStr>(&self) -> Result<Option<T>, ApiError> {
        self.after
            .as_deref()
            .map(|c| {
                c.parse::<T>()
                    .map_err(|_| ApiError::invalid("after", "not a cursor this list handed out"))
            })
            .transpose()
    }
}

impl PageQuery {
    /// Pages a list the brand keeps small and the server loads whole (keys,
    /// integrations, locations, rewards, segments): ordered by `id`, the items after the
    /// cursor, at most `limit` of them.
    pub fn page_loaded<T>(
        &self,
        mut items: Vec<T>,
        id: impl Fn(&T) -> String,
    ) -> Result<Page<T>, ApiError> {
        let limit = self.checked_limit()?;
        items.sort_by_key(|item| id(item));
        if let Some(after) = &self.after {
            items.retain(|item| id(item).as_str() > after.as_str());
        }
        items.truncate(usize::try_from(limit).unwrap_or(500));
        Ok(Page::of(items, limit, id))
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The cursor of the next page; absent when this page is the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page of `items` asked for with `limit`: a full page may have a next one.
    pub fn of(items: Vec<T>, limit: u64, cursor: impl Fn(&T) -> String) -> Self {
        let full = u64::try_from(items.len()).is_ok_and(|n| n == limit);
        let next = if full {
            items.last().map(&cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: u64, after: Option<&str>) -> PageQuery {
        PageQuery {
            limit: Some(limit),
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn loaded_lists_walk_in_id_order_exactly_once() -> Result<(), ApiError> {
        let items = vec!["c", "a", "e", "b", "d"];
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = query(2, after.as_deref()).page_loaded(items.clone(), |s| s.to_string())?;
            seen.extend(page.items.iter().map(|s| s.to_string()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        assert!(
            query(0, None)
                .page_loaded(items.clone(), |s| s.to_string())
                .is_err()
        );
        assert!(
            query(501, None)
                .page_loaded(items, |s| s.to_string())
                .is_err()
        );
        Ok(())
    }
}
