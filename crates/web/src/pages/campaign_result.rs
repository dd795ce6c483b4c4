//! A campaign's result as an owner can judge it: the ROI with its 95 % interval, or
//! "not yet significant" when the interval of the extra revenue includes zero, and one
//! line on what ROI means.

use crate::i18n::Lang;
use crate::reading::reading;
use crate::render::percent;
use maud::{Markup, html};
use regulars_campaigns::attribution::Attribution;

/// The ROI of `attribution` (at `gross_margin`), its interval and whether it is more
/// than chance; a dash without a comparison or without spending.
pub(crate) fn roi(lang: Lang, attribution: Option<&Attribution>, gross_margin: f64) -> Markup {
    let r = reading(lang);
    let Some(a) = attribution else {
        return html! { "—" };
    };
    let Some(value) = a.roi else {
        return html! { "—" };
    };
    let interval = a.roi_interval(gross_margin);
    html! {
        @if a.is_significant() {
            span.roi-verdict { (percent(value)) }
        } @else {
            span.roi-verdict.muted { (r.not_significant) }
        }
        @if let Some((low, high)) = interval {
            br;
            small.muted.roi-interval {
                @if !a.is_significant() { "ROI " (percent(value)) ", " }
                (r.interval) ": " (percent(low)) " … " (percent(high))
            }
        }
    }
}

/// One line on what ROI is, under every table that shows one.
pub(crate) fn explained(lang: Lang) -> Markup {
    html! { p.muted.roi-explained { (reading(lang).roi_explained) } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_campaigns::attribution::attribute;

    #[test]
    fn a_result_within_chance_says_so_with_its_interval() {
        let a = attribute(&[0.0, 100.0, 0.0, 90.0], &[0.0, 80.0, 10.0], 0.5, 10.0);
        let shown = a.map(|a| roi(Lang::En, Some(&a), 0.5).into_string());
        let shown = shown.unwrap_or_default();
        assert!(shown.contains("Not yet significant"), "{shown}");
        assert!(shown.contains("95 %: "), "{shown}");
        let b = attribute(&[50.0, 52.0, 51.0, 49.0], &[10.0, 11.0, 9.0], 0.5, 10.0);
        let shown = b.map(|b| roi(Lang::Vi, Some(&b), 0.5).into_string());
        let shown = shown.unwrap_or_default();
        assert!(!shown.contains("Chưa đủ"), "{shown}");
        assert!(shown.contains("95 %: "), "{shown}");
        assert_eq!(roi(Lang::En, None, 0.5).into_string(), "—");
    }
}
