//! Consistent online copies of the database with SQLite's backup API.

use crate::error::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Copies the database behind `src` into a new file at `dest` (which must not exist). The copy
/// is taken in one step, so it is one consistent snapshot even while the server writes.
pub fn backup_connection(src: &Connection, dest: &Path) -> Result<(), StoreError> {
    if dest.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; choose a new file name",
            dest.display()
        )));
    }
    let mut out = Connection::open(dest)?;
    {
        // All pages in one step: one read transaction, so one consistent snapshot.
        let backup = Backup::new(src, &mut out)?;
        let mut tries = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                _ if tries < 200 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(25));
                }
                _ => {
                    return Err(StoreError::Invalid(
                        "the database stayed locked; try the backup again".into(),
                    ))
                }
            }
        }
    }
    // A self-contained file: no -wal beside it.
    out.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// `frontdesk backup FILE`: opens the live database read-only and copies it.
pub fn backup_file(db: &Path, dest: &Path) -> Result<(), StoreError> {
    if !db.exists() {
        return Err(StoreError::NotFound(format!(
            "no database at {}",
            db.display()
        )));
    }
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(10))?;
    backup_connection(&src, dest)
}
