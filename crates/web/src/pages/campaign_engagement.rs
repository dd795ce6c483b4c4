//! The clicks and opens of a campaign, on its dashboard page: how many of the messages
//! sent were clicked (the click rate) and opened. `Services::campaign_engagement`
//! counts; this module only renders.

use crate::i18n::Lang;
use maud::{Markup, html};
use regulars_service::CampaignEngagement;

struct Words {
    title: &'static str,
    sent: &'static str,
    clicks: &'static str,
    clicked: &'static str,
    click_rate: &'static str,
    opens: &'static str,
    open_rate: &'static str,
    opens_note: &'static str,
}

const VI: Words = Words {
    title: "Lượt nhấp và lượt mở",
    sent: "Tin đã gửi",
    clicks: "Lượt nhấp liên kết",
    clicked: "Tin được nhấp",
    click_rate: "Tỉ lệ nhấp (tin được nhấp / tin đã gửi)",
    opens: "Lượt mở email",
    open_rate: "Tỉ lệ mở",
    opens_note: "Lượt mở email không chắc chắn: một số ứng dụng thư tự tải ảnh theo dõi, số khác chặn nó.",
};

const EN: Words = Words {
    title: "Clicks and opens",
    sent: "Messages sent",
    clicks: "Link clicks",
    clicked: "Messages clicked",
    click_rate: "Click rate (messages clicked / sent)",
    opens: "Email opens",
    open_rate: "Open rate",
    opens_note: "Email opens are unreliable: some mail apps fetch the tracking image on their own, others block it.",
};

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// The section of the campaign page.
pub(crate) fn section(lang: Lang, e: &CampaignEngagement) -> Markup {
    let w = match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    };
    let row = |id: &str, label: &str, value: String, shown: String| {
        html! { tr id=(id) { th { (label) } td { data value=(value) { (shown) } } } }
    };
    html! {
        section #engagement {
            h2 { (w.title) }
            table {
                (row("engagement-sent", w.sent, e.sent.to_string(), e.sent.to_string()))
                (row("engagement-clicks", w.clicks, e.counts.clicks.to_string(), e.counts.clicks.to_string()))
                (row("engagement-clicked", w.clicked, e.counts.clicked_messages.to_string(), e.counts.clicked_messages.to_string()))
                (row("click-rate", w.click_rate, e.click_rate().map_or(String::new(), |r| r.to_string()), percent(e.click_rate())))
                (row("engagement-opens", w.opens, e.counts.opens.to_string(), e.counts.opens.to_string()))
                (row("open-rate", w.open_rate, e.open_rate().map_or(String::new(), |r| r.to_string()), percent(e.open_rate())))
            }
            p.muted { (w.opens_note) }
        }
    }
}
