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
    Migrations::new(vec![
        M::up("CREATE TABLE platform_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;"),
        M::up(COUPONS_AND_MAILBOX),
        M::up(ONLINE_REFUSALS),
        M::up(NO_RECEIPTS_BY_VOUCHER),
    ])
}

/// Step 4: no query looks receipts up by voucher (a fraud case names both receipt ids, and
/// vouchers are never deleted, so the foreign key never searches receipts either), yet every
/// reconciled receipt paid for one more B-tree insert at a random place, and its pages in the WAL.
const NO_RECEIPTS_BY_VOUCHER: &str = "DROP INDEX receipts_by_voucher;";

/// Step 3: receipts refused online, by receipt id, so that their later upload at reconciliation
/// is refused again instead of counting or opening a fraud case. No foreign keys: a receipt may be
/// refused because its voucher is not one the platform issued.
const ONLINE_REFUSALS: &str = "
CREATE TABLE online_refusals (
    receipt_id BLOB PRIMARY KEY NOT NULL CHECK (length(receipt_id) = 16),
    bytes BLOB NOT NULL,
    reason TEXT NOT NULL,
    refused_at INTEGER NOT NULL
) STRICT;
";

/// Step 2: catalogue (seeded), devices, merchants, vouchers, receipts, fraud cases, signed lists,
/// mailbox. Keys and ids are raw bytes; times are unix seconds.
const COUPONS_AND_MAILBOX: &str = "
CREATE TABLE signed_documents (
    kind TEXT PRIMARY KEY NOT NULL,
    issued_at INTEGER NOT NULL,
    bytes BLOB NOT NULL
) STRICT;
CREATE TABLE brands (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE products (
    sku INTEGER PRIMARY KEY NOT NULL,
    brand INTEGER NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    price_krw INTEGER NOT NULL CHECK (price_krw > 0),
    value_krw INTEGER NOT NULL CHECK (value_krw >= 0),
    stored_value INTEGER NOT NULL CHECK (stored_value IN (0, 1)),
    validity_days INTEGER NOT NULL CHECK (validity_days > 0)
) STRICT;
INSERT INTO brands (id, name) VALUES (1, '별다방 커피'), (2, '달콤 베이커리'), (3, '눈꽃 아이스크림');
INSERT INTO products (sku, brand, name, price_krw, value_krw, stored_value, validity_days) VALUES
    (1001, 1, '아메리카노 Tall', 4500, 0, 0, 93),
    (1002, 1, '카페 라떼 Tall', 5000, 0, 0, 93),
    (1901, 1, '금액권 10,000원', 10000, 10000, 1, 1825),
    (2001, 2, '조각 케이크', 6500, 0, 0, 60),
    (3001, 3, '아이스크림 파인트', 9800, 0, 0, 93);
CREATE TABLE devices (
    public_key BLOB PRIMARY KEY NOT NULL CHECK (length(public_key) = 32),
    display_name TEXT NOT NULL,
    registered_at INTEGER NOT NULL
) STRICT;
CREATE TABLE merchants (
    id INTEGER PRIMARY KEY NOT NULL,
    brand INTEGER NOT NULL REFERENCES brands(id),
    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
    name TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    approved_at INTEGER
) STRICT;
CREATE TABLE vouchers (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    order_id BLOB NOT NULL UNIQUE,
    sku INTEGER NOT NULL REFERENCES products(sku),
    brand INTEGER NOT NULL REFERENCES brands(id),
    holder BLOB NOT NULL,
    buyer BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    mailbox_id INTEGER NOT NULL,
    spent_by BLOB,
    revoked_at INTEGER
) STRICT;
CREATE INDEX vouchers_revoked_by_brand ON vouchers (brand) WHERE revoked_at IS NOT NULL;
CREATE TABLE receipts (
    receipt_id BLOB PRIMARY KEY NOT NULL CHECK (length(receipt_id) = 16),
    voucher_id BLOB NOT NULL REFERENCES vouchers(id),
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    channel TEXT NOT NULL CHECK (channel IN ('online', 'reconciliation')),
    outcome TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX receipts_by_voucher ON receipts (voucher_id);
CREATE TABLE fraud_cases (
    id INTEGER PRIMARY KEY NOT NULL,
    voucher_id BLOB NOT NULL REFERENCES vouchers(id),
    kind TEXT NOT NULL,
    first_receipt BLOB NOT NULL REFERENCES receipts(receipt_id),
    second_receipt BLOB NOT NULL UNIQUE REFERENCES receipts(receipt_id),
    opened_at INTEGER NOT NULL
) STRICT;
CREATE TABLE revocation_lists (
    brand INTEGER PRIMARY KEY NOT NULL REFERENCES brands(id),
    issued_at INTEGER NOT NULL,
    bytes BLOB NOT NULL
) STRICT;
CREATE TABLE expiry_extensions (
    id INTEGER PRIMARY KEY NOT NULL,
    issued_at INTEGER NOT NULL,
    bytes BLOB NOT NULL
) STRICT;
CREATE TABLE mailbox (
    id INTEGER PRIMARY KEY NOT NULL,
    recipient BLOB NOT NULL,
    envelope BLOB NOT NULL,
    stored_at INTEGER NOT NULL
) STRICT;
CREATE INDEX mailbox_by_recipient ON mailbox (recipient, id);
CREATE TABLE mailbox_challenges (
    challenge BLOB PRIMARY KEY NOT NULL,
    recipient BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
";

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
    /// Stored data does not decode: the database was altered outside the platform.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A blocking task was cancelled.
    #[error("database task was cancelled")]
    Cancelled,
}

/// Opens (creating if needed) the database file at `path`, sets the pragmas and migrates it.
pub fn connect(path: &Path) -> Result<Connection, DbError> {
    let mut connection = Connection::open(path)?;
    // WAL: readers never block the writer. FULL sync: a transaction the API has acknowledged
    // (a reconciled receipt, an issued voucher) survives power loss and an operating-system crash
    // too, not only a crash of the process; NORMAL could lose the last commits since a checkpoint,
    // and a merchant's app forgets receipts the platform has acknowledged.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    migrations().to_latest(&mut connection)?;
    Ok(connection)
}

/// A shared handle to the platform's database.
#[derive(Clone, Debug)]
pub struct Db {
    connection: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and migrates it to the latest schema.
    pub fn open(data_dir: &Path) -> Result<Self, DbError> {
        let connection = connect(&data_dir.join(DB_FILE))?;
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

    #[test]
    fn every_commit_is_synced_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let connection = connect(&dir.path().join("sync.sqlite3")).unwrap();
        let mode: String = connection.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
        let synchronous: i64 = connection.pragma_query_value(None, "synchronous", |row| row.get(0)).unwrap();
        assert_eq!((mode.as_str(), synchronous), ("wal", 2), "WAL with synchronous=FULL (2)");
    }

    #[test]
    fn receipts_are_indexed_by_their_id_only() {
        let dir = tempfile::tempdir().unwrap();
        let connection = connect(&dir.path().join("indexes.sqlite3")).unwrap();
        let mut statement = connection.prepare("SELECT name FROM pragma_index_list('receipts') ORDER BY name").unwrap();
        let indexes: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(indexes, ["sqlite_autoindex_receipts_1"], "the primary key's index, nothing else");
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
