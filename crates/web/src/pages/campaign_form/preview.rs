//! What the preview button shows, before anything is saved: how many customers the
//! campaign would message now, how many it skips and why, the most its offers would
//! cost, and one message as a customer would get it, with what it costs as SMS.

use super::page::tr;
use crate::i18n::Lang;
use crate::pages::campaigns::{skip_code, skip_name};
use crate::render::money_text;
use maud::{Markup, html};
use regulars_domain::sms::{SmsEncoding, SmsOptions};
use regulars_domain::{Channel, Money};
use regulars_service::DraftPreview;

/// The message shown: the first one the run would send (a real customer's, as the
/// planner renders it), else the campaign's text for a sample customer.
pub(crate) fn message(preview: &DraftPreview) -> Option<(String, bool)> {
    match &preview.first_message {
        Some(text) => Some((text.clone(), true)),
        None => preview
            .campaign
            .sample_texts()
            .into_iter()
            .next()
            .map(|t| (t, false)),
    }
}

/// The preview section.
pub(crate) fn section(lang: Lang, preview: &DraftPreview) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let t = lang.text();
    let run = &preview.run;
    let currency = preview.campaign.currency;
    let max_cost = preview.max_cost_minor();
    let shown = message(preview);
    // The SMS form without the cap, so an over-long text shows what it would take.
    let sms = preview
        .campaign
        .channels
        .contains(&Channel::Sms)
        .then(|| {
            let unbounded = SmsOptions {
                max_segments: None,
                ..preview.campaign.sms
            };
            shown
                .as_ref()
                .and_then(|(text, _)| unbounded.prepare(text).ok())
        })
        .flatten();
    html! {
        section #preview {
            h2 { (l("Preview (nothing saved)", "Xem trước (chưa lưu gì)")) }
            table {
                tr #preview-customers { th { (t.customers_looked_at) } td { data value=(run.customers) { (run.customers) } } }
                tr #preview-messages { th { (t.would_message) } td { data value=(run.messages) { (run.messages) } } }
                tr #preview-vouchers { th { (t.would_issue) } td { data value=(run.vouchers) { (run.vouchers) } } }
                tr #preview-max-cost {
                    th { (l("Most the offers would cost (within the budget)", "Chi phí ưu đãi tối đa (trong ngân sách)")) }
                    td { data value=(max_cost) { (money_text(&Money::from_minor_units(max_cost, currency))) } }
                }
            }
            h3 { (t.skipped_by_reason) }
            @if run.skipped.is_empty() { p.muted { (t.none) } }
            @else {
                table #preview-skipped {
                    @for (reason, n) in &run.skipped {
                        tr data-reason=(skip_code(*reason)) {
                            th { (skip_name(t, *reason)) }
                            td { data value=(n) { (n) } }
                        }
                    }
                }
            }
            @if let Some((text, real)) = &shown {
                h3 { (if *real { l("The first message, as the customer gets it", "Tin nhắn đầu tiên, như khách nhận") } else { l("The message for a sample customer", "Tin nhắn cho một khách mẫu") }) }
                pre #preview-message { (text) }
                @if let Some((sms_text, length)) = &sms {
                    h3 { (l("As SMS", "Dạng SMS")) }
                    pre #preview-sms { (sms_text) }
                    table {
                        tr #preview-sms-segments { th { (t.sms_segments) } td { data value=(length.segments) { (length.segments) } } }
                        tr #preview-sms-encoding {
                            th { (l("Encoding", "Bảng mã")) }
                            td { data value=(match length.encoding { SmsEncoding::Gsm7 => "gsm7", SmsEncoding::Ucs2 => "ucs2" }) {
                                (match length.encoding {
                                    SmsEncoding::Gsm7 => l("GSM-7 (160 characters, 153 a part)", "GSM-7 (160 ký tự, 153 mỗi phần)"),
                                    SmsEncoding::Ucs2 => l("UCS-2, accented (70 characters, 67 a part)", "UCS-2, có dấu (70 ký tự, 67 mỗi phần)"),
                                })
                            } }
                        }
                        tr #preview-sms-units { th { (l("Characters", "Ký tự")) } td { data value=(length.units) { (length.units) } } }
                    }
                }
            }
            p.muted { (l("Voucher codes and links are shown as long as real ones. Nothing is saved by a preview.", "Mã ưu đãi và đường dẫn được hiển thị dài như thật. Xem trước không lưu gì.")) }
        }
    }
}
