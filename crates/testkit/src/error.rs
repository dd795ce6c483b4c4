//! The error type shared by every helper in this crate.

use std::{io, path::PathBuf, sync::Arc};

use thiserror::Error;

/// Why a throwaway database could not be prepared.
///
/// The message is meant to be read in a failed test's output: it carries the command that
/// failed, its output and, for the server, the end of its log.
///
/// `Clone` so that one failure to start the shared cluster can be reported to every test
/// that asks for it.
#[derive(Debug, Clone, Error)]
pub enum TestkitError {
    /// No PostgreSQL server installation (`initdb`, `pg_ctl`, `postgres`) was found.
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) not found; looked in: {}. \
         Install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`) \
         or set REGULARS_PG_BINDIR to its bin directory",
        searched.join(", ")
    )]
    PgNotInstalled {
        /// Where the search looked, in order.
        searched: Vec<String>,
    },
    /// A program the installation should contain is missing from it.
    #[error("`{name}` not found in {}", bindir.display())]
    MissingProgram {
        /// The program asked for.
        name: String,
        /// The PostgreSQL bin directory in use.
        bindir: PathBuf,
    },
    /// A filesystem or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error, shared so the error can be cloned.
        #[source]
        source: Arc<io::Error>,
    },
    /// An external program ran and failed.
    #[error("{}", describe_command_failure(.command, .status, .output, .log_tail.as_deref(), .hint.as_deref()))]
    CommandFailed {
        /// The command line, quoted for a shell, to reproduce by hand.
        command: String,
        /// How it ended: exit code or signal.
        status: String,
        /// What it printed (stdout, then stderr).
        output: String,
        /// The last lines of the server log, when a server was involved.
        log_tail: Option<String>,
        /// A likely cause, when one is known.
        hint: Option<String>,
    },
}

impl TestkitError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    /// Adds the end of the server log to a failed command, so it explains itself.
    pub(crate) fn with_log_tail(mut self, tail: Option<String>) -> Self {
        if let Self::CommandFailed { log_tail, .. } = &mut self {
            *log_tail = tail;
        }
        self
    }

    pub(crate) fn with_hint(mut self, text: Option<String>) -> Self {
        if let Self::CommandFailed { hint, .. } = &mut self {
            *hint = text;
        }
        self
    }
}

fn describe_command_failure(
    command: &str,
    status: &str,
    output: &str,
    log_tail: Option<&str>,
    hint: Option<&str>,
) -> String {
    let mut text = format!("`{command}` failed ({status})");
    let output = output.trim();
    if !output.is_empty() {
        text.push_str("\n--- output ---\n");
        text.push_str(output);
    }
    if let Some(tail) = log_tail.map(str::trim).filter(|t| !t.is_empty()) {
        text.push_str("\n--- end of server log ---\n");
        text.push_str(tail);
    }
    if let Some(hint) = hint {
        text.push_str("\nhint: ");
        text.push_str(hint);
    }
    text
}
