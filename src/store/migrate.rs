//! Versioned migrations. `schema.sql` (embedded) is split at its `-- migration: N` lines; each
//! block whose number is above the database's `PRAGMA user_version` runs once, in order, in its
//! own transaction.

use crate::error::StoreError;
use rusqlite::Connection;
use std::path::Path;

const SCHEMA: &str = include_str!("../../schema.sql");

/// The numbered blocks of `schema.sql`, in order: each starts at a line `-- migration: N`.
pub fn migrations() -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for line in SCHEMA.lines() {
        if let Some(n) = line.strip_prefix("-- migration: ") {
            let version = n
                .trim()
                .parse()
                .expect("schema.sql: `-- migration: N` needs a number");
            out.push((version, String::new()));
        } else if let Some((_, sql)) = out.last_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    out
}

pub fn latest_version() -> u32 {
    migrations().last().map(|m| m.0).unwrap_or(0)
}

/// Brings the database up to the latest schema. Before changing a database that already has a
/// schema, copies it to `<db>.pre-v<N>.bak` so a failed upgrade can be undone by hand (a copy
/// left by an earlier attempt at the same upgrade is kept, not overwritten). Returns the
/// versions applied.
///
/// Several processes may open a fresh data directory at once (the server and CLI commands
/// beside it): the write lock is taken before the version is read, and all pending blocks run
/// in that one transaction, so exactly one process migrates and the others find nothing to do.
pub fn migrate(conn: &mut Connection, db_path: &Path) -> Result<Vec<u32>, StoreError> {
    let latest = latest_version();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest {
        return Err(StoreError::Migration(format!(
            "the database {} has schema version {current}, newer than this frontdesk knows \
             ({latest}); run a newer frontdesk or restore a backup",
            db_path.display()
        )));
    }
    let pending: Vec<(u32, String)> = migrations()
        .into_iter()
        .filter(|(v, _)| *v > current)
        .collect();
    if pending.is_empty() {
        return Ok(vec![]);
    }
    if current > 0 {
        let backup = db_path.with_extension(format!("db.pre-v{latest}.bak"));
        if backup.exists() {
            tracing::info!(backup = %backup.display(), "keeping the backup an earlier attempt at this upgrade made");
        } else {
            tracing::info!(from = current, to = latest, backup = %backup.display(), "backing up the database before migrating");
            // The copy is read through a second connection: this one holds the write lock,
            // which leaves readers free, and nothing has been written yet.
            let reader = Connection::open(db_path)?;
            reader.busy_timeout(std::time::Duration::from_secs(10))?;
            super::backup::backup_connection(&reader, &backup)?;
        }
    }
    let mut applied = vec![];
    for (version, sql) in pending {
        tx.execute_batch(&sql).map_err(|e| {
            StoreError::Migration(format!("migration {version} of schema.sql failed: {e}"))
        })?;
        tx.pragma_update(None, "user_version", version)?;
        applied.push(version);
    }
    tx.commit()?;
    tracing::info!(versions = ?applied, "applied schema migrations");
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_blocks_are_numbered_from_one_without_gaps() {
        let m = migrations();
        assert!(!m.is_empty());
        for (i, (v, sql)) in m.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
            assert!(
                sql.contains("CREATE") || sql.contains("ALTER"),
                "block {v} is empty"
            );
        }
    }

    #[test]
    fn migrating_twice_applies_once_and_newer_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path).unwrap().len(), migrations().len());
        assert!(migrate(&mut conn, &path).unwrap().is_empty());
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        let err = migrate(&mut conn, &path).unwrap_err().to_string();
        assert!(err.contains("newer than this frontdesk knows"), "{err}");
    }

    #[test]
    fn an_upgrade_keeps_the_data_and_backs_up_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frontdesk.db");
        let mut conn = Connection::open(&path).unwrap();
        // A database made by a frontdesk that knew only migration 1, with a message in it.
        conn.execute_batch(&migrations()[0].1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 1, 0);
             INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c', 'v', 'ended', 0);
             INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at)
                 VALUES ('m', 'c', 1, 1, '{\"content\": \"kept\"}', 0);",
        )
        .unwrap();
        let applied = migrate(&mut conn, &path).unwrap();
        assert_eq!(applied, (2..=latest_version()).collect::<Vec<_>>());
        let content: String = conn
            .query_row("SELECT content FROM messages WHERE id = 'm'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(content, "{\"content\": \"kept\"}");
        let backup = path.with_extension(format!("db.pre-v{}.bak", latest_version()));
        let old = Connection::open(&backup).unwrap();
        let v: u32 = old
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1, "the backup is the database as it was");
    }

    /// The rebuild of `messages` (migration 12) keeps every rowid — the search index is keyed
    /// by it — and still refuses unknown kinds; a message insert builds no temporary b-tree.
    #[test]
    fn the_messages_rebuild_keeps_rowids_and_inserts_stay_cheap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frontdesk.db");
        let mut conn = Connection::open(&path).unwrap();
        for (_, sql) in migrations().iter().take(11) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 11).unwrap();
        conn.execute_batch(
            "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 1, 0);
             INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c', 'v', 'ended', 0);
             INSERT INTO messages (rowid, id, chat_id, sequence_num, type_id, content, created_at)
                 VALUES (5, 'a', 'c', 1, 1, '{\"content\": \"apple pie\"}', 0),
                        (9, 'b', 'c', 2, 3, '{\"content\": \"banana split\"}', 0);
             INSERT INTO message_search (rowid, text) VALUES (5, 'apple pie'), (9, 'banana split');",
        )
        .unwrap();
        migrate(&mut conn, &path).unwrap();
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT rowid, id FROM messages ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [(5, "a".to_string()), (9, "b".to_string())]);
        let found: String = conn
            .query_row(
                "SELECT m.id FROM messages m WHERE m.rowid IN \
                 (SELECT rowid FROM message_search WHERE message_search MATCH 'banana')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, "b");
        // Kinds outside 0–3 are refused.
        assert!(conn
            .execute(
                "INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at) \
                 VALUES ('x', 'c', 20, 4, '{}', 0)",
                [],
            )
            .is_err());
        assert!(conn
            .execute(
                "INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at) \
                 VALUES ('y', 'c', 21, -1, '{}', 0)",
                [],
            )
            .is_err());
        let program: Vec<String> = conn
            .prepare(
                "EXPLAIN INSERT INTO messages (id, chat_id, sequence_num, type_id, content, \
                 created_at) VALUES ('z', 'c', 30, 2, '{}', 0)",
            )
            .unwrap()
            .query_map([], |r| r.get(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            !program.iter().any(|op| op == "OpenEphemeral"),
            "a message insert builds a temporary b-tree: {program:?}"
        );
    }

    #[test]
    fn processes_racing_to_upgrade_migrate_once_and_back_up_once() {
        for start in [0, 1] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("frontdesk.db");
            if start == 1 {
                let conn = Connection::open(&path).unwrap();
                conn.execute_batch(&migrations()[0].1).unwrap();
                conn.pragma_update(None, "user_version", 1).unwrap();
            }
            let racers: Vec<_> = (0..6)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || {
                        let mut conn = Connection::open(&path).unwrap();
                        conn.busy_timeout(std::time::Duration::from_secs(30))
                            .unwrap();
                        migrate(&mut conn, &path).map(|applied| applied.len())
                    })
                })
                .collect();
            let applied: Vec<usize> = racers
                .into_iter()
                .map(|r| r.join().unwrap().unwrap())
                .collect();
            assert_eq!(
                applied.iter().filter(|n| **n > 0).count(),
                1,
                "from version {start}: {applied:?}"
            );
            assert_eq!(applied.iter().sum::<usize>(), migrations().len() - start);
            let backup = path.with_extension(format!("db.pre-v{}.bak", latest_version()));
            assert_eq!(backup.exists(), start == 1);
        }
    }
}
