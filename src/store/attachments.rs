//! Attachments: their rows (migration 5's `attachments` table), their files under
//! `<data>/attachments/`, and deleting a chat with everything of it.
//!
//! A file is written as `<random>.part`, synced, then renamed to `<random>` (32 hex digits,
//! the row's `stored_name`) before its row is inserted; a `.part` that is still there belongs
//! to an upload that never finished (the process stopped mid-upload) and is removed at start.

use crate::error::StoreError;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// The folder of attachment files inside the data directory.
pub const DIR: &str = "attachments";
/// The suffix of a file still being written.
pub const PART: &str = ".part";

/// One stored attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: String,
    pub chat_id: String,
    /// `None`: the chat's visitor sent it.
    pub uploader_staff: Option<String>,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub stored_name: String,
    pub created_at: i64,
}

/// `<data>/attachments`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR)
}

/// Whether `name` has the shape of a stored file name (so a row can never point outside the
/// folder, whatever the database holds).
pub fn is_stored_name(name: &str) -> bool {
    crate::model::is_id(name)
}

/// The path of a stored file; `None` for a name that is not one of ours.
pub fn path_of(dir: &Path, stored_name: &str) -> Option<PathBuf> {
    is_stored_name(stored_name).then(|| dir.join(stored_name))
}

/// Creates the folder and removes `.part` files left by uploads that never finished.
/// Returns how many were removed.
pub fn prepare_dir(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.strip_suffix(PART).is_some_and(is_stored_name) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

/// Removes stored files; a file already gone is fine. Errors are logged, not returned: the
/// rows are gone, and a file left behind is only disk space.
pub fn remove_files(dir: &Path, stored_names: &[String]) {
    for name in stored_names {
        let Some(path) = path_of(dir, name) else {
            continue;
        };
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %path.display(), "could not remove an attachment file");
            }
        }
    }
}

pub fn insert(conn: &Connection, a: &Attachment) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO attachments (id, chat_id, uploader_staff, name, mime, size, stored_name, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.id,
        a.chat_id,
        a.uploader_staff,
        a.name,
        a.mime,
        a.size,
        a.stored_name,
        a.created_at
    ])?;
    Ok(())
}

/// Deletes one row (an upload the live state refused after it was stored).
pub fn delete(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM attachments WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// An attachment with its chat's visitor.
pub fn get(conn: &Connection, id: &str) -> Result<Option<(Attachment, String)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, a.chat_id, a.uploader_staff, a.name, a.mime, a.size, a.stored_name, \
                    a.created_at, c.visitor_id \
             FROM attachments a JOIN chats c ON c.id = a.chat_id WHERE a.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                Attachment {
                    id: r.get(0)?,
                    chat_id: r.get(1)?,
                    uploader_staff: r.get(2)?,
                    name: r.get(3)?,
                    mime: r.get(4)?,
                    size: r.get(5)?,
                    stored_name: r.get(6)?,
                    created_at: r.get(7)?,
                },
                r.get(8)?,
            ))
        })
        .optional()?)
}

/// Whether a staff member serves or ever served the chat.
pub fn staff_served(conn: &Connection, chat_id: &str, staff_id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM chat_staff WHERE chat_id = ?1 AND staff_id = ?2)",
        )?
        .query_row([chat_id, staff_id], |r| r.get(0))?)
}

/// Deletes an ended chat and everything of it: messages, attachment rows, who served it, its
/// tags, its place in the offline queue. Returns the stored names of its files, to remove
/// once this is committed. `NotFound` for no such chat, `Conflict` while it is not ended.
pub fn delete_chat(conn: &Connection, chat_id: &str) -> Result<Vec<String>, StoreError> {
    let status: Option<String> = conn
        .prepare_cached("SELECT status FROM chats WHERE id = ?1")?
        .query_row([chat_id], |r| r.get(0))
        .optional()?;
    match status.as_deref() {
        None => return Err(StoreError::NotFound("No such chat.".into())),
        Some("ended") => {}
        Some(_) => {
            return Err(StoreError::Conflict(
                "Only an ended chat can be deleted.".into(),
            ))
        }
    }
    let files: Vec<String> = conn
        .prepare_cached("SELECT stored_name FROM attachments WHERE chat_id = ?1")?
        .query_map([chat_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for sql in [
        "DELETE FROM attachments WHERE chat_id = ?1",
        // The search index forgets its words before the messages go.
        "DELETE FROM message_search WHERE rowid IN (SELECT rowid FROM messages WHERE chat_id = ?1)",
        "DELETE FROM messages WHERE chat_id = ?1",
        "DELETE FROM chat_staff WHERE chat_id = ?1",
        "DELETE FROM chat_tags WHERE chat_id = ?1",
        "DELETE FROM offline_queue WHERE chat_id = ?1",
        "DELETE FROM resume_links WHERE chat_id = ?1",
        "DELETE FROM chats WHERE id = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([chat_id])?;
    }
    super::privacy::search_mark_back(conn)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, Synchronous};

    fn row(id: &str, chat: &str, stored: &str) -> Attachment {
        Attachment {
            id: id.into(),
            chat_id: chat.into(),
            uploader_staff: None,
            name: "a.png".into(),
            mime: "image/png".into(),
            size: 3,
            stored_name: stored.into(),
            created_at: 1,
        }
    }

    #[tokio::test]
    async fn deleting_a_chat_takes_everything_of_it_and_only_once_ended() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        let (s1, s2, s3) = (
            crate::model::new_id(),
            crate::model::new_id(),
            crate::model::new_id(),
        );
        let (a, b, c) = (s1.clone(), s2.clone(), s3.clone());
        store
            .write(move |conn| {
                conn.execute_batch(
                    "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 0, 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c1', 'v', 'ended', 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c2', 'v', 'claimed', 0);
                     INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at)
                        VALUES ('m1', 'c1', 1, 1, '{}', 0), ('m2', 'c2', 1, 1, '{}', 0);",
                )?;
                insert(conn, &row("a1", "c1", &a))?;
                insert(conn, &row("a2", "c1", &b))?;
                insert(conn, &row("a3", "c2", &c))?;
                Ok(())
            })
            .await
            .unwrap();
        let open = store.write(|c| delete_chat(c, "c2")).await;
        assert!(matches!(open, Err(StoreError::Conflict(_))), "{open:?}");
        let none = store.write(|c| delete_chat(c, "nope")).await;
        assert!(matches!(none, Err(StoreError::NotFound(_))), "{none:?}");
        let mut files = store.write(|c| delete_chat(c, "c1")).await.unwrap();
        files.sort();
        let mut want = vec![s1, s2];
        want.sort();
        assert_eq!(files, want);
        let left: (i64, i64, i64) = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM chats), (SELECT count(*) FROM messages), \
                            (SELECT count(*) FROM attachments)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(left, (1, 1, 1), "the open chat and its things stay");
        assert!(store.read(|c| get(c, "a1")).await.unwrap().is_none());
        let (got, visitor) = store.read(|c| get(c, "a3")).await.unwrap().unwrap();
        assert_eq!((got.chat_id.as_str(), visitor.as_str()), ("c2", "v"));
        store.close().await;
    }

    #[test]
    fn stale_parts_go_and_nothing_else_does() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dir(tmp.path());
        std::fs::create_dir_all(&d).unwrap();
        let kept = crate::model::new_id();
        let part = format!("{}{PART}", crate::model::new_id());
        for name in [kept.as_str(), part.as_str(), "notes.part", "other"] {
            std::fs::write(d.join(name), b"x").unwrap();
        }
        assert_eq!(prepare_dir(&d).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = vec![kept.clone(), "notes.part".into(), "other".into()];
        want.sort();
        assert_eq!(left, want);
        assert!(path_of(&d, "../x").is_none());
        assert_eq!(path_of(&d, &kept), Some(d.join(&kept)));
    }
}
