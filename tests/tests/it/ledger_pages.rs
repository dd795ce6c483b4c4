//! A customer's ledger read a page at a time, on both databases: paging with any page
//! size returns every entry once, in sequence order, as the whole ledger holds them; a
//! cursor past the end reads nothing.

use crate::targets;
use time::{Duration, OffsetDateTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_a_ledger_returns_every_entry_once_in_order() {
    for target in targets("ledger_pages").await {
        let (name, w) = (target.name, &target.world);
        let lan = regulars_tests::sms_customer(&w.services, w.brand, 7_300, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{name}: customer: {e}"))
            .id;
        let now = OffsetDateTime::now_utc();
        for k in 0..9 {
            let at = now - Duration::days(20 - k);
            w.services
                .ingest_order(
                    w.brand,
                    regulars_tests::order(w.brand, &format!("LP-{k}"), 7_300, at, 1),
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: order {k}: {e}"));
        }
        let all = w
            .services
            .customer_ledger(w.brand, lan, None, 500)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(all.len() >= 9, "{name}: {all:?}");
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (0..all.len() as u64).collect::<Vec<_>>(), "{name}");
        for limit in [1, 2, 4, 8] {
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = w
                    .services
                    .customer_ledger(w.brand, lan, after, limit)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(page.len() as u64 <= limit, "{name}: page over {limit}");
                let Some(last) = page.last() else { break };
                after = Some(last.seq);
                paged.extend(page);
            }
            assert_eq!(paged, all, "{name}: pages of {limit}");
        }
        let past = w
            .services
            .customer_ledger(w.brand, lan, Some(u64::MAX), 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(past.is_empty(), "{name}: {past:?}");
    }
}
