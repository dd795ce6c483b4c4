//! How a throwaway cluster is configured.

/// Settings for [`PgCluster::start_with`](crate::PgCluster::start_with).
///
/// The defaults suit tests: durability off (nothing survives a machine crash, which a
/// throwaway cluster does not care about, and every commit is much cheaper), 200
/// connections so 50+ concurrent tasks with their pools fit, and the `C` locale so sorting
/// and case rules are the same on every machine.
///
/// ```
/// use regulars_testkit::PgOptions;
///
/// // A benchmark measures what production would pay for a commit.
/// let options = PgOptions::new().durable(true).setting("max_wal_size", "4GB");
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    pub(crate) durable: bool,
    pub(crate) max_connections: u32,
    pub(crate) locale: String,
    pub(crate) settings: Vec<(String, String)>,
    pub(crate) tls: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            durable: false,
            max_connections: 200,
            locale: "C".to_owned(),
            settings: Vec::new(),
            tls: false,
        }
    }
}

impl PgOptions {
    /// The defaults: see the type's documentation.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `true`, keeps PostgreSQL's own durability settings (`fsync`,
    /// `synchronous_commit`, `full_page_writes` on) and lets `initdb` sync its files: for
    /// benchmarks and crash tests. With `false` (the default) all three are off.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// `max_connections` of the server (default 200).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// The locale `initdb` gives the cluster (default `C`); the encoding is always UTF8.
    ///
    /// Server messages stay in English whatever the locale, so logs in errors are readable.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// With `true`, the server speaks TLS (`ssl = on`) with a certificate for
    /// `127.0.0.1` and `localhost` signed by an authority made for this cluster alone
    /// ([`PgCluster::tls_ca_file`](crate::PgCluster::tls_ca_file)), and refuses TCP
    /// connections without TLS. Needs the `openssl` command. Default `false`.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Any other server setting, written to the configuration file after the ones above,
    /// so it also overrides them. The value is quoted for the file: pass `"4GB"`, not
    /// `"'4GB'"`.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }
}
