//! The segments page's "best hour to message": each RFM segment's golden hour as the
//! last scoring run learned it, in the brand's local time, with the brand's own.

use crate::i18n::Text;
use maud::{Markup, html};
use regulars_service::SegmentSendTimes;

/// A local hour as `20:00`.
fn hour(h: Option<u8>) -> String {
    h.map_or("—".to_owned(), |h| format!("{h:02}:00"))
}

/// The section; nothing before the first scoring run.
pub(crate) fn section(t: &Text, times: &SegmentSendTimes) -> Markup {
    html! {
        section #best-hours {
            h2 { (t.best_hour_title) }
            @if times.segments.is_empty() { p.muted { (t.no_history) } }
            @else {
                p.muted { (t.best_hour_help) }
                table #segment-hours {
                    tr {
                        th { (t.name) } th { (t.best_hour) }
                        th { (t.best_hour_members) } th { (t.best_hour_source) }
                    }
                    tr.brand-hour {
                        td { (t.best_hour_all) }
                        td { (hour(times.brand_golden_hour)) }
                        td { "—" }
                        td { (t.best_hour_brand) }
                    }
                    @for s in &times.segments {
                        tr data-segment=(s.segment) {
                            td { (s.segment) }
                            td.hour { (hour(s.golden_hour)) }
                            td { (s.members) }
                            td { (if s.own_pattern { t.best_hour_own } else { t.best_hour_brand }) }
                        }
                    }
                }
            }
        }
    }
}
