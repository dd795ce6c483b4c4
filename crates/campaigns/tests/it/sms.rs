//! SMS settings of a campaign: the segment cap checked on a sample text, accent folding.

use crate::campaign;
use regulars_campaigns::{Campaign, CampaignError};
use regulars_domain::sms::SmsEncoding;
use serde_json::json;

fn refused(overrides: serde_json::Value) -> (String, String) {
    let mut base = json!({
        "id": regulars_domain::CampaignId::from_bytes([9; 16]),
        "name": "Test",
        "shop": "Trà Sữa Mây",
        "currency": "VND",
        "trigger": {"type": "broadcast"},
    });
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    match Campaign::from_json(&base.to_string()) {
        Err(CampaignError::Invalid { path, message }) => (path, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// 67 accented characters: one UCS-2 segment alone, more with `[QC] `, a name and the
/// opt-out instruction.
const LONG_ACCENTED: &str = "Chào {{name}}! Trà Sữa Mây tặng bạn ly trà đào miễn phí hôm nay nhé.";

#[test]
fn a_text_over_the_cap_is_refused_naming_the_template() {
    let (path, message) = refused(json!({
        "template": LONG_ACCENTED,
        "channels": ["sms"],
        "sms": {"max_segments": 1},
    }));
    assert_eq!(path, "template");
    assert!(message.contains("3 segments"), "{message}");
    assert!(message.contains("UCS-2"), "{message}");
    assert!(message.contains("sms.max_segments"), "{message}");
    assert!(message.contains("sms.fold_accents"), "{message}");
}

#[test]
fn folding_brings_the_same_text_under_the_cap() {
    let c = campaign(json!({
        "template": LONG_ACCENTED,
        "channels": ["sms"],
        "sms": {"max_segments": 2, "fold_accents": true},
    }));
    let length = c.sample_sms_length().unwrap();
    assert_eq!(length.encoding, SmsEncoding::Gsm7);
    assert_eq!(length.segments, 2);
}

#[test]
fn the_opt_out_instruction_ends_a_promotional_text_and_counts() {
    let text = "Chao {{name}}, Tra Sua May nho ban! Ghe quan tuan nay nhe, co mon moi cho ban.";
    let promotional = campaign(json!({
        "template": text, "channels": ["sms"], "sms": {"fold_accents": true},
    }));
    let sample = &promotional.sample_texts()[0];
    let footer = format!(
        "\nTu choi QC: {}",
        regulars_campaigns::sms::SAMPLE_OPT_OUT_LINK
    );
    assert!(sample.ends_with(&footer), "{sample}");
    // One segment alone; with the instruction, two.
    let alone = sample.strip_suffix(&footer).unwrap_or_default();
    let (_, length) = promotional.sms.prepare(alone).unwrap();
    assert_eq!(length.segments, 1, "{alone}");
    assert_eq!(promotional.sample_sms_length().unwrap().segments, 2);
    let (path, message) = refused(json!({
        "template": text, "channels": ["sms"], "sms": {"max_segments": 1, "fold_accents": true},
    }));
    assert_eq!(path, "template");
    assert!(message.contains("2 segments"), "{message}");
    // A transactional text carries none.
    let receipt = campaign(json!({
        "template": text, "channels": ["sms"],
        "trigger": {"type": "after_purchase"},
    }));
    assert!(
        !receipt.sample_texts()[0].contains("Tu choi"),
        "{:?}",
        receipt.sample_texts()
    );
}

#[test]
fn the_cap_only_matters_when_the_campaign_sends_sms() {
    let c = campaign(json!({
        "template": LONG_ACCENTED,
        "channels": ["zalo", "email"],
        "sms": {"max_segments": 1},
    }));
    assert_eq!(c.sample_sms_length(), None);
}

#[test]
fn every_reward_an_offer_may_give_is_checked() {
    let long_name = "x".repeat(100);
    let mut long = crate::free_item(2, "tra", 10_000);
    long["reward"]["name"] = json!(long_name);
    let (path, _) = refused(json!({
        "template": "Tặng {{reward}}, mã {{code}}",
        "channels": ["sms"],
        "sms": {"max_segments": 1},
        "offer": {
            "type": "personalised",
            "candidates": [crate::free_item(1, "tra", 10_000), long],
            "max_cost_per_customer": {"amount": "50000", "currency": "VND"},
        },
    }));
    assert_eq!(path, "template");
}

#[test]
fn the_cap_is_bounded() {
    for bad in [0, 11] {
        let (path, message) = refused(json!({"sms": {"max_segments": bad}}));
        assert_eq!(path, "sms.max_segments");
        assert!(message.contains("1 to 10"), "{message}");
    }
    let (path, _) = refused(json!({"sms": {"fold": true}}));
    assert!(path.starts_with("sms"), "{path}");
}

#[test]
fn the_planned_text_is_not_folded_the_delivery_is() {
    // Folding happens when the message goes out by SMS, so email and ZNS keep the accents.
    let c = campaign(json!({
        "template": "Chào {{name}}!",
        "sms": {"fold_accents": true},
    }));
    assert!(c.sample_texts()[0].contains("Chào"));
    let (text, _) = c.sms.prepare(&c.sample_texts()[0]).unwrap();
    assert!(
        text.starts_with("[QC] Chao Nguyen Thi Minh Khai!\nTu choi QC: "),
        "{text}"
    );
}

/// ZNS parameters: declared per template, each checked on a sample customer.
#[test]
fn zalo_params_are_checked_and_named() {
    let with = |params: serde_json::Value, extra: serde_json::Value| {
        let mut doc = json!({"zalo_template": "240871", "zalo_params": params});
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc
    };
    let ok = campaign(with(
        json!({"customer_name": {"value": "name", "type": "customer_name"},
               "ten_quan": {"value": "shop", "type": "label"},
               "diem": {"value": "balance", "type": "amount"}}),
        json!({}),
    ));
    assert_eq!(ok.zns_param_types().len(), 3);
    for (params, extra, path) in [
        (
            json!({"Tên": {"value": "name", "type": "customer_name"}}),
            json!({}),
            "zalo_params.Tên",
        ),
        (
            json!({"x": {"value": "nickname", "type": "label"}}),
            json!({}),
            "zalo_params.x.value",
        ),
        (
            json!({"x": {"value": "code", "type": "code"}}),
            json!({}),
            "zalo_params.x.value",
        ),
        (
            json!({"x": {"value": "shop", "type": "label"}}),
            json!({"shop": "Trà Sữa Mây chi nhánh Nguyễn Huệ"}),
            "zalo_params.x",
        ),
        (
            json!({"x": {"value": "name", "type": "amount"}}),
            json!({}),
            "zalo_params.x",
        ),
        (
            json!({"x": {"value": "name", "type": "customer_name"}}),
            json!({"zalo_template": null}),
            "zalo_template",
        ),
    ] {
        let (got, message) = refused(with(params, extra));
        assert_eq!(got, path, "{message}");
    }
}

#[test]
fn a_rating_link_belongs_to_after_purchase_messages_and_counts_as_sms() {
    let (path, message) = refused(json!({
        "template": "Chao {{name}}, danh gia: {{rating_link}}",
        "channels": ["sms"],
    }));
    assert_eq!(path, "template");
    assert!(message.contains("after_purchase"), "{message}");
    let without = campaign(json!({
        "trigger": {"type": "after_purchase"},
        "template": "Cam on {{name}}!",
        "channels": ["sms"], "sms": {"fold_accents": true},
    }));
    let with = campaign(json!({
        "trigger": {"type": "after_purchase"},
        "template": "Cam on {{name}}! {{rating_link}}",
        "channels": ["sms"], "sms": {"fold_accents": true},
    }));
    let (without, with) = (
        without.sample_sms_length().unwrap(),
        with.sample_sms_length().unwrap(),
    );
    // The link is counted at a real link's length, not as nothing.
    assert!(
        with.units >= without.units + regulars_campaigns::sms::SAMPLE_RATING_LINK.len(),
        "{without:?} {with:?}"
    );
}
