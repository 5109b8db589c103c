//! The embedded SQLite database: opened once, migrated forward, used from blocking tasks.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "platform.sqlite3";

/// Schema steps, oldest first. Append only: a step that has shipped is never edited.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(
        "CREATE TABLE platform_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;",
    )])
}

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A schema step failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The connection mutex was poisoned by a panic in another task.
    #[error("database connection is unusable after an earlier failure")]
    Poisoned,
    /// A blocking task was cancelled.
    #[error("database task was cancelled")]
    Cancelled,
}

/// A shared handle to the platform's database.
#[derive(Clone, Debug)]
pub struct Db {
    connection: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and migrates it to the latest schema.
    pub fn open(data_dir: &Path) -> Result<Self, DbError> {
        let mut connection = Connection::open(data_dir.join(DB_FILE))?;
        // WAL: readers never block the writer; NORMAL sync is durable at each checkpoint and
        // never corrupts on power loss in WAL mode.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut connection)?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` on the connection in a blocking task.
    pub async fn with<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection.lock().map_err(|_| DbError::Poisoned)?;
            work(&mut guard)
        })
        .await
        .map_err(|_| DbError::Cancelled)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.with(|c| Ok(c.execute("INSERT INTO platform_meta VALUES ('k', 'v')", [])?)).await.unwrap();
        drop(db);
        let db = Db::open(dir.path()).unwrap();
        let value: String = db
            .with(|c| Ok(c.query_row("SELECT value FROM platform_meta WHERE key = 'k'", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(value, "v");
    }
}
