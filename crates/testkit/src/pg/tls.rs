//! TLS for a throwaway cluster: a certificate authority made for the cluster alone and a
//! server certificate for `127.0.0.1` and `localhost` signed by it, drawn with the
//! `openssl` command-line tool (nothing is downloaded).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{TestkitError, os};

/// The files of a cluster's TLS set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// The authority's certificate: what a client verifies the server against
    /// (`sslrootcert=`).
    pub(crate) ca_cert: PathBuf,
    /// The server's certificate.
    pub(crate) server_cert: PathBuf,
    /// The server's private key (readable by the server only).
    pub(crate) server_key: PathBuf,
}

/// What the server certificate is good for: the address the cluster listens on.
const SERVER_EXTENSIONS: &str = "basicConstraints=critical,CA:FALSE\n\
keyUsage=critical,digitalSignature,keyEncipherment\n\
extendedKeyUsage=serverAuth\n\
subjectAltName=IP:127.0.0.1,DNS:localhost\n";

fn openssl(args: &[&str], dir: &Path) -> Result<(), TestkitError> {
    let program = os::find_in_path("openssl").ok_or_else(|| {
        TestkitError::io(
            "the TLS test cluster needs the openssl command",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    let mut argv: Vec<OsString> = vec![program.into()];
    argv.extend(args.iter().map(OsString::from));
    os::run(&argv, Some(dir)).map(drop)
}

/// Makes a fresh authority and server certificate in `dir` (created), valid for two
/// days, with ECDSA P-256 keys.
pub(crate) fn make_certificates(dir: &Path) -> Result<TlsFiles, TestkitError> {
    fs::create_dir_all(dir)
        .map_err(|e| TestkitError::io(format!("could not create {}", dir.display()), e))?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=regulars test CA",
    ];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca, dir)?;
    let mut request = vec!["req", "-new", "-subj", "/CN=localhost"];
    request.extend(ec);
    request.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&request, dir)?;
    fs::write(dir.join("server.ext"), SERVER_EXTENSIONS)
        .map_err(|e| TestkitError::io("could not write server.ext", e))?;
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    )?;
    let files = TlsFiles {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
    };
    // PostgreSQL refuses a key that others can read.
    set_mode(&files.server_key, 0o600)?;
    if os::running_as_root() {
        for path in [dir, files.server_cert.as_path(), files.server_key.as_path()] {
            os::give_to_server_user(path)?;
        }
    }
    Ok(files)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), TestkitError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| TestkitError::io(format!("could not chmod {}", path.display()), e))
}

/// `pg_hba.conf` of a TLS-only cluster: local sockets for the tools, TCP only over TLS.
pub(crate) const TLS_ONLY_HBA: &str = "# Written by regulars-testkit: TLS only over TCP.\n\
local all all trust\n\
hostssl all all 127.0.0.1/32 trust\n\
hostssl all all ::1/128 trust\n";
