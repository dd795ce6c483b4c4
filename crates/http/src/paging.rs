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
    pub limit: Option<u64>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl PageQuery {
    /// The page size asked for.
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
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
