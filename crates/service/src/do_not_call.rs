//! The do-not-call list: reading the national registry's export, loading it for the
//! whole deployment, and checking numbers against it when messages are planned and
//! delivered. Storage keeps keyed hashes only (see `DoNotCallRepo`).

use crate::Services;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_campaigns::plan::CustomerFacts;
use regulars_domain::{Channel, Phone};
use regulars_ports::{DoNotCallStatus, StoreError, Transaction};
use std::collections::{HashSet, hash_map::RandomState};
use thiserror::Error;

/// Numbers listed per transaction during an import.
pub const DO_NOT_CALL_BATCH: usize = 5_000;

/// A line of the file that is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// A registry export, read: the numbers (each once) and the lines skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoNotCallFile {
    /// The numbers, in E.164, each once, in the order of the file.
    pub phones: Vec<Phone>,
    /// Lines that repeat a number already read.
    pub repeated: u64,
    /// Lines that are not a number, with their line numbers.
    pub bad: Vec<BadLine>,
}

/// Reads the national registry's export: one number a line, in any of the forms
/// `0912…`, `84912…` or `+84912…`, spaces, dots and dashes allowed; blank lines and
/// `#` comments (whole lines or after a number) are ignored.
///
/// ```
/// use regulars_service::parse_do_not_call;
/// let file = parse_do_not_call("# export\n0912 345 678\n+84912345678\n84-98-765-4321\nabc\n");
/// let phones: Vec<&str> = file.phones.iter().map(|p| p.as_str()).collect();
/// assert_eq!(phones, ["+84912345678", "+84987654321"]);
/// assert_eq!(file.repeated, 1);
/// assert_eq!(file.bad[0].line, 5);
/// ```
pub fn parse_do_not_call(text: &str) -> DoNotCallFile {
    let mut file = DoNotCallFile::default();
    let mut seen: HashSet<Phone, RandomState> = HashSet::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches('\u{feff}');
        let number = line.split('#').next().unwrap_or("").trim();
        if number.is_empty() {
            continue;
        }
        match Phone::parse(number, Phone::VIETNAM) {
            Ok(phone) => {
                if seen.insert(phone.clone()) {
                    file.phones.push(phone);
                } else {
                    file.repeated += 1;
                }
            }
            Err(error) => file.bad.push(BadLine {
                line: i + 1,
                reason: error.to_string(),
            }),
        }
    }
    file
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoNotCallImport {
    /// Numbers newly listed.
    pub added: u64,
    /// Numbers that were listed already.
    pub already: u64,
    /// Numbers removed because the file (with `--replace`) no longer lists them.
    pub removed: u64,
}

/// Why the do-not-call list could not be loaded or read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DoNotCallError {
    /// A replacing import of a file without a single number: it would empty the list.
    #[error("the file lists no number: replacing the list with it would empty it")]
    EmptyReplacement,
    /// Storage failed (or has no key to hash numbers with).
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(DoNotCallError, store);

impl UseCaseError for DoNotCallError {
    fn class(&self) -> ErrorClass {
        match self {
            DoNotCallError::EmptyReplacement => ErrorClass::Invalid,
            DoNotCallError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            DoNotCallError::EmptyReplacement => Some("file"),
            DoNotCallError::Store(_) => None,
        }
    }
}

impl Services {
    /// Loads `file` into the deployment's do-not-call list, [`DO_NOT_CALL_BATCH`]
    /// numbers per transaction. With `replace`, numbers the file does not list are
    /// removed at the end, once every number of the file is in: an import stopped
    /// half-way leaves the list bigger, never smaller.
    pub async fn import_do_not_call(
        &self,
        file: &DoNotCallFile,
        replace: bool,
    ) -> Result<DoNotCallImport, DoNotCallError> {
        if replace && file.phones.is_empty() {
            return Err(DoNotCallError::EmptyReplacement);
        }
        let import = self.ids.new_id().to_string();
        let import = import.as_str();
        let mut done = DoNotCallImport::default();
        for batch in file.phones.chunks(DO_NOT_CALL_BATCH) {
            let now = self.clock.now();
            let listed = self
                .transact("do_not_call_import", |mut tx| async move {
                    let result = tx
                        .do_not_call()
                        .list_do_not_call(batch, import, now)
                        .await
                        .map_err(DoNotCallError::from);
                    (tx, result)
                })
                .await?;
            done.added += listed.added;
            done.already += listed.already;
        }
        if replace {
            done.removed = self
                .transact("do_not_call_replace", |mut tx| async move {
                    let result = tx
                        .do_not_call()
                        .unlist_do_not_call_except(import)
                        .await
                        .map_err(DoNotCallError::from);
                    (tx, result)
                })
                .await?;
        }
        Ok(done)
    }

    /// The list's size and how many numbers wait for a re-import after a key rotation.
    pub async fn do_not_call_status(&self) -> Result<DoNotCallStatus, DoNotCallError> {
        self.transact("do_not_call_status", |mut tx| async move {
            let result = tx
                .do_not_call()
                .do_not_call_status()
                .await
                .map_err(DoNotCallError::from);
            (tx, result)
        })
        .await
    }
}

/// Marks the customers of `facts` whose number is listed, when a promotional SMS is
/// possible at all (`sms_promotion`): one query for all of them.
pub(crate) async fn mark_listed(
    tx: &mut dyn Transaction,
    facts: &mut [CustomerFacts],
    sms_promotion: bool,
) -> Result<(), StoreError> {
    if !sms_promotion || facts.is_empty() {
        return Ok(());
    }
    let phones: Vec<Phone> = facts.iter().map(|f| f.phone.clone()).collect();
    let listed = tx.do_not_call().do_not_call_listed(&phones).await?;
    for f in facts {
        f.do_not_call = listed.contains(&f.phone);
    }
    Ok(())
}

/// Whether a campaign could send a promotional SMS: promotional, with SMS among its
/// channels.
pub(crate) fn sends_promotional_sms(campaign: &regulars_campaigns::Campaign) -> bool {
    campaign.is_promotional() && campaign.channels.contains(&Channel::Sms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_number_reads_as_one() {
        let file = parse_do_not_call(
            "0912345678\n84912345678\n+84912345678\n 0912-345-678 \n0912.345.678\n\n",
        );
        assert_eq!(file.phones.len(), 1);
        assert_eq!(file.phones[0].as_str(), "+84912345678");
        assert_eq!(file.repeated, 4);
        assert!(file.bad.is_empty());
    }

    #[test]
    fn comments_blank_lines_and_windows_endings_are_ignored() {
        let file = parse_do_not_call(
            "\u{feff}# Danh sách DNC\r\n\r\n0987654321 # added 2026-12\r\n   \r\n# end\r\n",
        );
        let phones: Vec<&str> = file.phones.iter().map(Phone::as_str).collect();
        assert_eq!(phones, ["+84987654321"]);
        assert!(file.bad.is_empty());
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers_and_skipped() {
        let file = parse_do_not_call("0912345678\nhello\n0123456789\n12345\n0987654321\n");
        assert_eq!(file.phones.len(), 2);
        let lines: Vec<usize> = file.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(file.bad.iter().all(|b| !b.reason.is_empty()));
    }
}
