//! Line charts drawn as inline SVG on the server: round ticks, axis labels that fit,
//! money in short form on a money axis, and a legend telling a dozen lines apart by
//! colour and dash.

use crate::i18n::Lang;
use maud::{Markup, html};
use regulars_domain::Currency;

/// Colours of the series, in order: a qualitative palette of twelve colours that stay
/// apart on white (after Paul Tol's "muted" and "bright" schemes).
const COLOURS: [&str; 12] = [
    "#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#1098ad", "#a07a00", "#5c6bc0",
    "#6d4c41", "#e64980", "#37b24d", "#495057",
];

/// Dash patterns: the first twelve lines are solid, the next dashed, then dotted.
const DASHES: [&str; 3] = ["none", "7 4", "2 3"];

/// One line of a chart.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Its name in the legend.
    pub name: String,
    /// One value per x label.
    pub values: Vec<f64>,
}

/// What the y axis counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Axis {
    /// Plain numbers (customers, orders).
    Count,
    /// Sums of money in a currency's major units, written short for `Lang`.
    Money(Lang, Currency),
}

/// The colour and dash of the `k`-th line.
fn style(k: usize) -> (&'static str, &'static str) {
    (
        COLOURS[k % COLOURS.len()],
        DASHES[(k / COLOURS.len()) % DASHES.len()],
    )
}

/// Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5 times a power
/// of ten, four or five of them.
pub(crate) fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let rough = max / 4.0;
    let power = 10_f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let steps = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// A number with at most one decimal, in the language's decimal mark.
fn short_number(value: f64, lang: Lang) -> String {
    let text = if (value - value.round()).abs() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A sum of money written short for an axis: `590 k₫`, `1,2 tr ₫`, `3 tỷ ₫` in
/// Vietnamese; `590k ₫`, `1.2M ₫`, `3B ₫` in English; other currencies with their code.
pub(crate) fn short_money(value: f64, lang: Lang, currency: Currency) -> String {
    let symbol = match currency.code() {
        "VND" => "₫".to_owned(),
        "USD" => "$".to_owned(),
        code => code.to_owned(),
    };
    let abs = value.abs();
    let (scaled, unit) = match lang {
        Lang::Vi if abs >= 1e9 => (value / 1e9, " tỷ\u{a0}"),
        Lang::Vi if abs >= 1e6 => (value / 1e6, " tr\u{a0}"),
        Lang::Vi if abs >= 1e3 => (value / 1e3, " k"),
        Lang::En if abs >= 1e9 => (value / 1e9, "B\u{a0}"),
        Lang::En if abs >= 1e6 => (value / 1e6, "M\u{a0}"),
        Lang::En if abs >= 1e3 => (value / 1e3, "k\u{a0}"),
        _ => (value, "\u{a0}"),
    };
    let number = short_number(scaled, lang).replace(' ', "\u{a0}");
    let unit = unit.replace(' ', "\u{a0}");
    if symbol == "$" {
        format!("${number}{}", unit.trim_end_matches('\u{a0}'))
    } else {
        format!("{number}{unit}{symbol}")
    }
}

fn tick_text(axis: Axis, value: f64) -> String {
    match axis {
        Axis::Count => short_number(value, Lang::En),
        Axis::Money(lang, currency) => short_money(value, lang, currency),
    }
}

/// A line chart of counts: `series` over `labels` (the x axis), with a legend.
pub(crate) fn line_chart(id: &str, labels: &[String], series: &[Series]) -> Markup {
    line_chart_of(id, labels, series, Axis::Count)
}

/// A line chart whose y axis counts `axis`.
pub(crate) fn line_chart_of(id: &str, labels: &[String], series: &[Series], axis: Axis) -> Markup {
    let (width, height) = (640.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (78.0, 16.0, 12.0, 28.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let ticks = nice_ticks(max);
    let top_tick = ticks.last().copied().unwrap_or(1.0);
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + (width - left - right) / 2.0
        } else {
            left + (width - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (height - top - bottom) * (1.0 - v / top_tick);
    let label_step = n.div_ceil(5).max(1);
    // The last label is always drawn; the regular one before it gives way when close.
    let shown = |i: usize| i + 1 == n || (i.is_multiple_of(label_step) && n - 1 - i >= label_step);
    let anchor = |i: usize| match i {
        0 if n > 1 => "start",
        i if i + 1 == n && n > 1 => "end",
        _ => "middle",
    };
    html! {
        svg.chart id=(id) viewBox=(format!("0 0 {width} {height}")) role="img" xmlns="http://www.w3.org/2000/svg" {
            @for tick in &ticks {
                line x1=(left) x2=(width - right) y1=(y(*tick)) y2=(y(*tick)) stroke="#e3e6eb" {}
                text x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" font-size="12" fill="#5a6475" { (tick_text(axis, *tick)) }
            }
            @for (i, label) in labels.iter().enumerate() {
                @if shown(i) {
                    text x=(x(i)) y=(height - 8.0) text-anchor=(anchor(i)) font-size="12" fill="#5a6475" { (label) }
                }
            }
            @for (k, s) in series.iter().enumerate() {
                @let (colour, dash) = style(k);
                @let points: Vec<String> = s.values.iter().enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(if v.is_finite() { *v } else { 0.0 })))
                    .collect();
                polyline points=(points.join(" ")) fill="none" stroke=(colour) stroke-width="2" stroke-dasharray=(dash) {
                    title { (s.name) }
                }
                @for (i, v) in s.values.iter().enumerate() {
                    circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(if v.is_finite() { *v } else { 0.0 }))) r="3" fill=(colour) {}
                }
            }
        }
        ul.legend {
            @for (k, s) in series.iter().enumerate() {
                @let (colour, dash) = style(k);
                li {
                    svg width="28" height="10" viewBox="0 0 28 10" aria-hidden="true" {
                        line x1="1" x2="27" y1="5" y2="5" stroke=(colour) stroke-width="3" stroke-dasharray=(dash) {}
                    }
                    " " (s.name)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_line_per_series_and_escapes_names() {
        let labels = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let series = vec![
            Series {
                name: "<one>".to_owned(),
                values: vec![1.0, 2.0, 3.0],
            },
            Series {
                name: "two".to_owned(),
                values: vec![0.0, f64::NAN, 1.0],
            },
        ];
        let svg = line_chart("c", &labels, &series).into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("&lt;one&gt;"));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn ticks_are_round_and_cover_the_largest_value() {
        assert_eq!(
            nice_ticks(590_500.0),
            vec![0.0, 200_000.0, 400_000.0, 600_000.0]
        );
        assert_eq!(
            nice_ticks(181_000.0),
            vec![0.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0]
        );
        assert_eq!(nice_ticks(0.0), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(7.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        for max in [0.3, 3.0, 17.0, 99.0, 1234.0, 5e6, 7.7e9] {
            let ticks = nice_ticks(max);
            assert!(ticks.len() >= 2 && ticks.len() <= 6, "{max}: {ticks:?}");
            assert!(ticks.last().is_some_and(|t| *t >= max), "{max}: {ticks:?}");
        }
    }

    #[test]
    fn money_on_an_axis_is_short_and_keeps_its_symbol() {
        let vnd = Currency::VND;
        assert_eq!(short_money(590_000.0, Lang::Vi, vnd), "590\u{a0}k₫");
        assert_eq!(
            short_money(1_200_000.0, Lang::Vi, vnd),
            "1,2\u{a0}tr\u{a0}₫"
        );
        assert_eq!(short_money(3e9, Lang::Vi, vnd), "3\u{a0}tỷ\u{a0}₫");
        assert_eq!(short_money(590_000.0, Lang::En, vnd), "590k\u{a0}₫");
        assert_eq!(short_money(1_250_000.0, Lang::En, vnd), "1.2M\u{a0}₫");
        assert_eq!(short_money(0.0, Lang::En, vnd), "0\u{a0}₫");
    }

    #[test]
    fn twelve_lines_have_twelve_colours_and_more_differ_by_dash() {
        let styles: std::collections::BTreeSet<_> = (0..24).map(style).collect();
        assert_eq!(styles.len(), 24);
        let colours: std::collections::BTreeSet<_> = (0..12).map(|k| style(k).0).collect();
        assert_eq!(colours.len(), 12);
    }

    #[test]
    fn a_money_axis_shows_short_sums_not_raw_numbers() {
        let labels: Vec<String> = (1..=30).map(|d| format!("2026-11-{d:02}")).collect();
        let series = vec![Series {
            name: "Revenue".to_owned(),
            values: (0..30)
                .map(|i| 181_000.0 + f64::from(i) * 13_700.0)
                .collect(),
        }];
        let svg = line_chart_of("r", &labels, &series, Axis::Money(Lang::Vi, Currency::VND))
            .into_string();
        assert!(svg.contains("600\u{a0}k₫"), "{svg}");
        assert!(
            !svg.contains(">590500<") && !svg.contains(">181000<"),
            "{svg}"
        );
        let drawn = labels
            .iter()
            .filter(|l| svg.contains(&format!(">{l}<")))
            .count();
        assert!((2..=6).contains(&drawn), "{drawn} x labels");
    }
}
