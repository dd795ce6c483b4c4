//! Temporary SQLite files.

use std::fs;

use regulars_testkit::SqliteFile;

use crate::TestResult;

#[test]
fn sqlite_files_are_unique_and_removed_with_their_companions() -> TestResult {
    let a = SqliteFile::new()?;
    let b = SqliteFile::new()?;
    assert_ne!(a.path(), b.path());
    assert_eq!(a.url(), format!("sqlite://{}?mode=rwc", a.path().display()));
    assert!(a.path().is_absolute());

    let path = a.path().to_path_buf();
    let companions = ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut name = path.clone().into_os_string();
        name.push(suffix);
        std::path::PathBuf::from(name)
    });
    fs::write(&path, b"")?;
    for companion in &companions {
        fs::write(companion, b"")?;
    }
    drop(a);
    assert!(!path.exists());
    assert!(companions.iter().all(|c| !c.exists()));
    assert!(!path.parent().is_some_and(|dir| dir.exists()));
    assert!(b.path().parent().is_some_and(|dir| dir.exists()));
    Ok(())
}
