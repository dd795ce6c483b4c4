//! A second handle on a target's database that records every statement it sends: what
//! the tests that count a use case's statements run it through.

use regulars_service::Services;
use regulars_store::{Store, StoreOptions};
use std::sync::{Arc, Mutex};

/// The statements sent so far, in order.
pub(crate) type StatementLog = Arc<Mutex<Vec<String>>>;

/// Use cases over a second handle on the database at `url` (migrations not run again),
/// with the system clock and OS randomness, and the log of what that handle sends.
pub(crate) async fn observed(url: &str) -> (Services, StatementLog) {
    let log = StatementLog::default();
    let mut store = Store::connect(url, StoreOptions::default().migrate(false))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let sink = log.clone();
    store.observe_statements(move |sql| {
        if let Ok(mut log) = sink.lock() {
            log.push(sql.to_owned());
        }
    });
    let services = Services::new(
        Arc::new(store),
        Arc::new(regulars::system::SystemClock),
        Arc::new(regulars::system::OsIdGen),
    );
    (services, log)
}

/// The statements logged since the last look (the log is emptied).
pub(crate) fn taken(log: &Mutex<Vec<String>>) -> Vec<String> {
    log.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}
