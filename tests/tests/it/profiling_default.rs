//! The brand's profiling default on both databases: a segment-targeted campaign leaves
//! out a customer never asked about profiling until the brand's policy allows it by
//! default; a customer who withdrew stays out either way.

use regulars_campaigns::Policy;
use regulars_campaigns::plan::SkipReason;
use regulars_domain::ChangeSource;
use regulars_service::{CampaignAction, ChangeAuthor, ConsentPatch, CustomerInput, CustomerPatch};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_asked_customers_are_profiled_only_when_the_brand_allows_it() {
    for target in crate::targets("profiling_default").await {
        let (w, name) = (&target.world, target.name);
        let by = ChangeAuthor {
            actor: "test".to_owned(),
            source: ChangeSource::Import,
        };
        let mut ids = Vec::new();
        for (n, profiling) in [(1u64, None), (2, Some(true)), (3, Some(true))] {
            let input = CustomerInput {
                consent: ConsentPatch {
                    sms: Some(true),
                    profiling,
                    ..ConsentPatch::default()
                },
                ..CustomerInput::default()
            };
            let c = w
                .services
                .create_customer(w.brand, regulars_tests::phone(n).as_str(), input, &by)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            ids.push(c.id);
        }
        // The third withdraws.
        let withdraw = CustomerPatch {
            consent: ConsentPatch {
                profiling: Some(false),
                ..ConsentPatch::default()
            },
            ..CustomerPatch::default()
        };
        w.services
            .patch_customer(w.brand, ids[2], withdraw, &by)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        w.services
            .set_messaging_policy(w.brand, Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let campaign = w
            .services
            .create_campaign(
                w.brand,
                &json!({"name": "Khách thân", "trigger": {"type": "broadcast"},
                        "audience": {"rule": "marketing_consent = true"}, "channels": ["sms"],
                        "policy": {}, "holdout": 0.0, "frequency_cap": null}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .id;
        w.services
            .set_campaign_status(w.brand, campaign, CampaignAction::Launch)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let left_out = || async {
            let preview = w
                .services
                .preview_campaign(w.brand, campaign)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            preview
                .skipped
                .get(&SkipReason::NoProfilingConsent)
                .copied()
                .unwrap_or(0)
        };
        // Silence is not consent by default: the never asked and the withdrawn are out.
        assert_eq!(left_out().await, 2, "{name}");
        let allowing = Policy {
            profiling_default: true,
            ..Policy::unrestricted()
        };
        w.services
            .set_messaging_policy(w.brand, allowing)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(left_out().await, 1, "{name}: only the withdrawn one");
        let read = w
            .services
            .messaging_policy(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(read.profiling_default, "{name}");
    }
}
