//! Line charts drawn as inline SVG on the server.

use maud::{Markup, html};

/// Colours of the series, in order.
const COLOURS: [&str; 8] = [
    "#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c", "#e8590c", "#1098ad", "#5c940d", "#c2255c",
];

/// One line of a chart.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Its name in the legend.
    pub name: String,
    /// One value per x label.
    pub values: Vec<f64>,
}

/// A line chart of `series` over `labels` (the x axis), with a legend.
pub(crate) fn line_chart(id: &str, labels: &[String], series: &[Series]) -> Markup {
    let (width, height) = (640.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (48.0, 12.0, 12.0, 28.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let max = if max <= 0.0 { 1.0 } else { max };
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + (width - left - right) / 2.0
        } else {
            left + (width - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (height - top - bottom) * (1.0 - v / max);
    let ticks = [0.0, max / 2.0, max];
    let label_step = n.div_ceil(6).max(1);
    html! {
        svg.chart id=(id) viewBox=(format!("0 0 {width} {height}")) role="img" xmlns="http://www.w3.org/2000/svg" {
            @for tick in ticks {
                line x1=(left) x2=(width - right) y1=(y(tick)) y2=(y(tick)) stroke="#e3e6eb" {}
                text x=(left - 6.0) y=(y(tick) + 4.0) text-anchor="end" font-size="11" fill="#5a6475" { (tick_label(tick)) }
            }
            @for (i, label) in labels.iter().enumerate() {
                @if i % label_step == 0 || i + 1 == n {
                    text x=(x(i)) y=(height - 8.0) text-anchor="middle" font-size="11" fill="#5a6475" { (label) }
                }
            }
            @for (k, s) in series.iter().enumerate() {
                @let colour = COLOURS[k % COLOURS.len()];
                @let points: Vec<String> = s.values.iter().enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(if v.is_finite() { *v } else { 0.0 })))
                    .collect();
                polyline points=(points.join(" ")) fill="none" stroke=(colour) stroke-width="2" {
                    title { (s.name) }
                }
                @for (i, v) in s.values.iter().enumerate() {
                    circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(if v.is_finite() { *v } else { 0.0 }))) r="3" fill=(colour) {}
                }
            }
        }
        p.muted {
            @for (k, s) in series.iter().enumerate() {
                span style=(format!("color:{};margin-right:1rem", COLOURS[k % COLOURS.len()])) { "■ " (s.name) }
            }
        }
    }
}

/// An axis label: whole numbers as such, others with one decimal.
fn tick_label(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
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
}
