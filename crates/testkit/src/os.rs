//! Operating-system chores: who we run as, running programs, scratch directories.

use std::{
    env,
    ffi::{OsStr, OsString},
    fs, io,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::TestkitError;

/// The account PostgreSQL server programs run under when we are root: `initdb` and
/// `postgres` refuse to run as root.
pub(crate) const SERVER_OS_USER: &str = "postgres";

/// Environment variables that would point PostgreSQL programs at some other server,
/// user or data directory than the one we pass explicitly.
const PG_ENV_VARS: &[&str] = &[
    "PGAPPNAME",
    "PGCLIENTENCODING",
    "PGCONNECT_TIMEOUT",
    "PGDATA",
    "PGDATABASE",
    "PGHOST",
    "PGHOSTADDR",
    "PGOPTIONS",
    "PGPASSFILE",
    "PGPASSWORD",
    "PGPORT",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSSLMODE",
    "PGTARGETSESSIONATTRS",
    "PGUSER",
];

/// Whether this process runs with effective uid 0.
pub(crate) fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let from_proc = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| effective_uid(&status));
        let uid = from_proc.or_else(|| {
            let out = Command::new("id").arg("-u").output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        });
        uid == Some(0)
    })
}

/// The effective uid from the text of `/proc/<pid>/status`
/// (`Uid:` lists real, effective, saved and filesystem uids).
pub(crate) fn effective_uid(proc_status: &str) -> Option<u32> {
    let line = proc_status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The command line that runs `argv` as a user PostgreSQL server programs accept:
/// unchanged normally, through `runuser` (or `su`) as [`SERVER_OS_USER`] when root.
pub(crate) fn as_server_user(argv: Vec<OsString>) -> Vec<OsString> {
    if !running_as_root() {
        return argv;
    }
    if find_in_path("runuser").is_some() {
        let mut wrapped: Vec<OsString> = vec![
            "runuser".into(),
            "-u".into(),
            SERVER_OS_USER.into(),
            "--".into(),
        ];
        wrapped.extend(argv);
        wrapped
    } else {
        // `su` hands the command to a shell, so it goes as one quoted string.
        vec![
            "su".into(),
            "-s".into(),
            "/bin/sh".into(),
            "-c".into(),
            shell_line(&argv).into(),
            SERVER_OS_USER.into(),
        ]
    }
}

/// Gives `path` to [`SERVER_OS_USER`] (used only when root).
pub(crate) fn give_to_server_user(path: &Path) -> Result<(), TestkitError> {
    let argv: Vec<OsString> = vec!["chown".into(), SERVER_OS_USER.into(), path.into()];
    run(&argv, None).map(drop)
}

/// A [`Command`] for `argv` with PostgreSQL connection variables removed from its
/// environment and no stdin, run from `cwd` when given.
pub(crate) fn command(argv: &[OsString], cwd: Option<&Path>) -> Command {
    let (program, args) = argv
        .split_first()
        .map_or((OsStr::new(""), &[][..]), |(p, a)| (p.as_os_str(), a));
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    for var in PG_ENV_VARS {
        cmd.env_remove(var);
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd
}

/// Runs `argv` to completion; a failure carries its command line and output.
///
/// `cwd` matters when running as another user, who may not be allowed into ours.
pub(crate) fn run(argv: &[OsString], cwd: Option<&Path>) -> Result<Output, TestkitError> {
    let line = shell_line(argv);
    let output = command(argv, cwd)
        .output()
        .map_err(|e| TestkitError::io(format!("could not run `{line}`"), e))?;
    if output.status.success() {
        return Ok(output);
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(TestkitError::CommandFailed {
        command: line,
        status: output.status.to_string(),
        output: text,
        log_tail: None,
        hint: None,
    })
}

/// `argv` as one line a POSIX shell reads back into the same words.
pub(crate) fn shell_line(argv: &[OsString]) -> String {
    argv.iter()
        .map(|word| shell_quote(&word.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The first `name` on `PATH` that is a file.
pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Creates a fresh directory `regulars-<kind>-<pid>-<n>` under the temp directory.
///
/// The pid in the name lets [`prune_stale_scratch_dirs`] recognise leftovers of
/// processes that are gone.
pub(crate) fn create_scratch_dir(kind: &str) -> Result<PathBuf, TestkitError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = env::temp_dir().join(format!("{}{pid}-{n}", scratch_prefix(kind)));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // A leftover of an earlier process that had our pid.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(TestkitError::io(
                    format!("could not create {}", dir.display()),
                    e,
                ));
            }
        }
    }
}

/// Removes scratch directories of `kind` whose creating process has exited, calling
/// `before_removal` on each first (to stop a server still running in it).
///
/// Best effort: failures are ignored, the next run tries again.
pub(crate) fn prune_stale_scratch_dirs(kind: &str, before_removal: impl Fn(&Path)) {
    let prefix = scratch_prefix(kind);
    let Ok(entries) = fs::read_dir(env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| scratch_dir_pid(n, &prefix)) else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let dir = entry.path();
        before_removal(&dir);
        let _ = fs::remove_dir_all(&dir);
    }
}

fn scratch_prefix(kind: &str) -> String {
    format!("regulars-{kind}-")
}

/// The pid in a scratch directory name `<prefix><pid>-<n>`.
pub(crate) fn scratch_dir_pid(name: &str, prefix: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(prefix)?.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !exited_but_unreaped(&stat));
    }
    // Without /proc, `kill -0` also reports "alive" when the process belongs to someone
    // else, which errs on the side of leaving their directory alone.
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(true, |status| status.success())
}

/// Whether `/proc/<pid>/stat` describes a zombie: a process that has exited and whose
/// parent (often a container's init) has not collected it yet.
fn exited_but_unreaped(proc_stat: &str) -> bool {
    // The state follows the command name, which is in parentheses and may contain spaces.
    let state = proc_stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some("Z" | "X"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_uid_is_the_second_uid_field() {
        let status =
            "Name:\tcargo\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Name:\tx\n"), None);
    }

    #[test]
    fn zombies_count_as_exited() {
        assert!(exited_but_unreaped("15009 (my test) Z 1 15009 0"));
        assert!(!exited_but_unreaped("15009 (my) test) S 1 15009 0"));
        assert!(!exited_but_unreaped("garbage"));
    }

    #[test]
    fn scratch_dir_names_carry_the_pid() {
        assert_eq!(
            scratch_dir_pid("regulars-pg-4242-7", "regulars-pg-"),
            Some(4242)
        );
        assert_eq!(scratch_dir_pid("regulars-pg-4242", "regulars-pg-"), None);
        assert_eq!(scratch_dir_pid("regulars-pg-x-7", "regulars-pg-"), None);
        assert_eq!(scratch_dir_pid("regulars-sqlite-1-2", "regulars-pg-"), None);
    }

    #[test]
    fn shell_line_quotes_only_what_needs_it() {
        let argv: Vec<OsString> = vec![
            "/usr/bin/psql".into(),
            "-c".into(),
            "select 'a b'".into(),
            "".into(),
        ];
        assert_eq!(
            shell_line(&argv),
            r"/usr/bin/psql -c 'select '\''a b'\''' ''"
        );
    }
}
