//! Opening the database, its schema with stepwise upgrades, error mapping and the key layout.
//!
//! # Schema
//! Keys are binary (`Uint8Array`), compared bytewise by IndexedDB; fixed-width big-endian
//! fields make that order the order of the Rust values. Values are record bytes
//! (`chat::store::encode_record` and friends, version byte first), or for stores with indexes
//! a small object whose index fields are binary keys beside the record bytes `r`.
//!
//! | store | key | value, indexes | since |
//! |---|---|---|---|
//! | `identity` | `"device"` | device key seed | v1 |
//! | `contacts` | public key | record | v1 |
//! | `conversations` | conversation id | record | v1 |
//! | `messages` | message id | `{k, p?, r}`; `by_key` on `k` = conversation ‖ time ‖ id; `page` on `p`, the same key, present only while delivered | v1, moved into `message_segments` and removed in v3 |
//! | `waiting` | parent ‖ child | `{c}`; `by_conversation` on `c` = conversation ‖ parent ‖ child | v1 |
//! | `outbox` | message ‖ recipient | `{d, r}`; `due` on `d` = next attempt ‖ message ‖ recipient | v1 |
//! | `acks` | peer ‖ message | empty | v2 |
//! | `vouchers` | voucher id | voucher bytes | v2 |
//! | `lists` | list kind byte | fetch time ‖ signed bytes | v2 |
//! | `ledger` | voucher id | `{r, c?}`: receipt id, highest counter | v2 |
//! | `receipts` | receipt id | receipt bytes | v2 |
//! | `sync_queue` | auto-increment | `{r, v}`: receipt id, value; `by_receipt` on `r` | v2 |
//! | `message_segments` | conversation ‖ time ‖ id of its first message | `{ids, r}`: consecutive messages of one conversation (`crate::segment`); `by_id` on `ids`, multi-entry, unique | v3 |
//! | `quarantine` | auto-increment | `{s, k, v}`: an unreadable record, raw, with its store and key (`crate::quarantine`) | v3 |

use std::rc::Rc;

use chat::StoreError;
use chat::store::{MAX_RECORD_LEN, decode_record, encode_record};
use indexed_db_futures::database::{Database, VersionChangeEvent};
use indexed_db_futures::error::{Error, OpenDbError};
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::{KeyPath, KeyRange};
use js_sys::{ArrayBuffer, Object, Reflect, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// The schema version this code writes; older databases are upgraded step by step on open.
pub const DB_VERSION: u32 = 3;

pub(crate) const IDENTITY: &str = "identity";
pub(crate) const CONTACTS: &str = "contacts";
pub(crate) const CONVERSATIONS: &str = "conversations";
pub(crate) const MESSAGES: &str = "messages";
pub(crate) const WAITING: &str = "waiting";
pub(crate) const OUTBOX: &str = "outbox";
pub(crate) const ACKS: &str = "acks";
pub(crate) const VOUCHERS: &str = "vouchers";
pub(crate) const LISTS: &str = "lists";
pub(crate) const LEDGER: &str = "ledger";
pub(crate) const RECEIPTS: &str = "receipts";
pub(crate) const SYNC_QUEUE: &str = "sync_queue";
pub(crate) const SEGMENTS: &str = "message_segments";

/// A handle on the device's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct IdbStore {
    db: Rc<Database>,
}

impl IdbStore {
    /// Opens (creating or upgrading) the database `name` at [`DB_VERSION`].
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        Self::open_at(name, DB_VERSION).await
    }

    /// Opens at `version`, upgrading through every step up to it. Tests use an older version to
    /// write the layout a previous release left behind.
    pub async fn open_at(name: &str, version: u32) -> Result<Self, StoreError> {
        Self::open_upgrading_in_chunks(name, version, crate::migrate_v3::CHUNK).await
    }

    /// [`IdbStore::open_at`], with an upgrade that moves `chunk` (at least 2) old records per
    /// request. Tests use small chunks to cross chunk bounds with few messages.
    pub async fn open_upgrading_in_chunks(name: &str, version: u32, chunk: u32) -> Result<Self, StoreError> {
        let db = Database::open(name)
            .with_version(version)
            .with_on_upgrade_needed(move |event, db| upgrade(event, db, chunk))
            .await
            .map_err(open_error)?;
        Ok(Self { db: Rc::new(db) })
    }

    /// The schema version of the open database.
    pub fn version(&self) -> f64 {
        self.db.version()
    }

    /// Closes the connection unless a clone of this handle still uses it (an open that
    /// upgrades the schema waits until every connection is closed).
    pub fn close(self) {
        if let Ok(db) = Rc::try_unwrap(self.db) {
            db.close();
        }
    }

    /// A transaction over `stores`.
    pub(crate) fn transaction(
        &self,
        stores: &[&str],
        mode: TransactionMode,
    ) -> Result<Tx<'_>, StoreError> {
        let tx = self
            .db
            .transaction(stores)
            .with_mode(mode)
            .build()
            .map_err(backend)?;
        Ok(Tx(tx))
    }
}

/// A transaction that rolls back unless [`Tx::commit`] succeeds.
#[derive(Debug)]
pub(crate) struct Tx<'a>(Transaction<'a>);

impl Tx<'_> {
    pub(crate) fn store(&self, name: &str) -> Result<ObjectStore<'_>, StoreError> {
        self.0.object_store(name).map_err(backend)
    }

    /// Commits; a transaction the browser aborted (quota exceeded, ...) reports its cause.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        let sys = self.0.as_sys().clone();
        match self.0.commit().await {
            Ok(()) => Ok(()),
            Err(error) => Err(match sys.error() {
                Some(cause) => dom_error(&cause),
                None => backend(error),
            }),
        }
    }

    /// Rolls back everything written so far.
    pub(crate) async fn abort(self) -> Result<(), StoreError> {
        self.0.abort().await.map_err(backend)
    }
}

type Step<'a> = &'a dyn Fn(&Database) -> Result<(), Error>;

/// Step `n` brings a database at version `n - 1` to version `n`. Steps never change, so a
/// database of any earlier version reaches the current layout. Step 3 moves old messages
/// `chunk` records per request.
fn upgrade(event: VersionChangeEvent, db: Database, chunk: u32) -> Result<(), Error> {
    let old = event.old_version();
    let new = event.new_version().unwrap_or(f64::from(DB_VERSION));
    let step_3 = |db: &Database| crate::migrate_v3::step_3(db, chunk);
    let steps: [Step<'_>; 3] = [&step_1, &step_2, &step_3];
    for (n, step) in (1u32..).zip(steps) {
        if old < f64::from(n) && f64::from(n) <= new {
            step(&db)?;
        }
    }
    Ok(())
}

fn step_1(db: &Database) -> Result<(), Error> {
    for name in [IDENTITY, CONTACTS, CONVERSATIONS] {
        db.create_object_store(name).build()?;
    }
    let messages = db.create_object_store(MESSAGES).build()?;
    messages.create_index("by_key", KeyPath::One("k")).build()?;
    messages.create_index("page", KeyPath::One("p")).build()?;
    let waiting = db.create_object_store(WAITING).build()?;
    waiting
        .create_index("by_conversation", KeyPath::One("c"))
        .build()?;
    let outbox = db.create_object_store(OUTBOX).build()?;
    outbox.create_index("due", KeyPath::One("d")).build()?;
    Ok(())
}

fn step_2(db: &Database) -> Result<(), Error> {
    for name in [ACKS, VOUCHERS, LISTS, LEDGER, RECEIPTS] {
        db.create_object_store(name).build()?;
    }
    let queue = db
        .create_object_store(SYNC_QUEUE)
        .with_auto_increment(true)
        .build()?;
    queue
        .create_index("by_receipt", KeyPath::One("r"))
        .build()?;
    Ok(())
}

/// Whether `error` means the device's storage is full: the write was rolled back whole and the
/// user must free space.
pub fn is_storage_full(error: &StoreError) -> bool {
    matches!(error, StoreError::Backend { name, .. } if name == "QuotaExceededError")
}

pub(crate) fn backend(error: impl Into<Error>) -> StoreError {
    match error.into() {
        Error::DomException(e) => dom_error(&web_sys::DomException::from(e)),
        other => StoreError::Backend {
            name: "IndexedDB".into(),
            message: other.to_string(),
        },
    }
}

pub(crate) fn dom_error(e: &web_sys::DomException) -> StoreError {
    StoreError::Backend {
        name: e.name(),
        message: e.message(),
    }
}

fn open_error(error: OpenDbError) -> StoreError {
    match error {
        OpenDbError::Base(e) => backend(e),
        other => StoreError::Backend {
            name: "IndexedDB".into(),
            message: other.to_string(),
        },
    }
}

/// The value under `key`, if any.
pub(crate) async fn get(
    tx: &Tx<'_>,
    store: &str,
    key: &[u8],
) -> Result<Option<JsValue>, StoreError> {
    let value: Option<JsValue> = tx
        .store(store)?
        .get(bin(key))
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(value.filter(|v| !v.is_undefined()))
}

/// Adds or replaces the value under `key`.
pub(crate) async fn put(
    tx: &Tx<'_>,
    store: &str,
    key: &JsValue,
    value: &JsValue,
) -> Result<(), StoreError> {
    tx.store(store)?
        .put(value)
        .with_key(key)
        .without_key_type()
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(())
}

/// Removes the value under `key` (no-op if absent).
pub(crate) async fn delete(tx: &Tx<'_>, store: &str, key: &[u8]) -> Result<(), StoreError> {
    tx.store(store)?
        .delete(bin(key))
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)
}

/// The values (or keys) a `getAll` request returns.
pub(crate) async fn collect<F, I>(request: Result<F, Error>) -> Result<Vec<JsValue>, StoreError>
where
    F: IntoFuture<Output = Result<I, Error>>,
    I: Iterator<Item = Result<JsValue, Error>>,
{
    request
        .map_err(backend)?
        .await
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)
}

/// Every value in `range` (all if `None`), ascending by key.
pub(crate) async fn get_all(
    tx: &Tx<'_>,
    store: &str,
    range: Option<KeyRange<JsValue>>,
) -> Result<Vec<JsValue>, StoreError> {
    let store = tx.store(store)?;
    match range {
        Some(range) => collect(store.get_all().with_query::<JsValue, _>(range).primitive()).await,
        None => collect(store.get_all().primitive()).await,
    }
}

/// Every value of `store` whose `index` key is in `range`, ascending by that key.
pub(crate) async fn index_values(
    tx: &Tx<'_>,
    store: &str,
    index: &str,
    range: KeyRange<JsValue>,
) -> Result<Vec<JsValue>, StoreError> {
    let store = tx.store(store)?;
    let index = store.index(index).map_err(backend)?;
    collect(index.get_all().with_query::<JsValue, _>(range).primitive()).await
}

/// Removes the keys in `range` and returns them, ascending.
pub(crate) async fn take_keys(
    tx: &Tx<'_>,
    store: &str,
    range: KeyRange<JsValue>,
) -> Result<Vec<JsValue>, StoreError> {
    let store = tx.store(store)?;
    let keys = collect(
        store
            .get_all_keys()
            .with_query::<JsValue, _>(range.clone())
            .primitive(),
    )
    .await?;
    store
        .delete::<JsValue, _>(range)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(keys)
}

/// The record (`chat::store::encode_record`) under `key`.
pub(crate) async fn get_record<T: Serialize + DeserializeOwned>(
    tx: &Tx<'_>,
    store: &str,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    get(tx, store, key)
        .await?
        .map(|v| decode_record(&bytes_of(&v, "")?))
        .transpose()
}

/// Every record in `store`, ascending by key.
pub(crate) async fn all_records<T: Serialize + DeserializeOwned>(
    tx: &Tx<'_>,
    store: &str,
) -> Result<Vec<T>, StoreError> {
    get_all(tx, store, None)
        .await?
        .iter()
        .map(|v| decode_record(&bytes_of(v, "")?))
        .collect()
}

/// Adds or replaces the record under `key`.
pub(crate) async fn put_record<T: Serialize>(
    tx: &Tx<'_>,
    store: &str,
    key: &[u8],
    record: &T,
) -> Result<(), StoreError> {
    put(tx, store, &bin(key), &bin(&encode_record(record)?)).await
}

/// Bytes as a binary key or value.
pub(crate) fn bin(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

/// A value object with these fields.
pub(crate) fn object(fields: &[(&str, &JsValue)]) -> Result<JsValue, StoreError> {
    let object = Object::new();
    for (name, value) in fields {
        Reflect::set(&object, &JsValue::from_str(name), value).map_err(js_error)?;
    }
    Ok(object.into())
}

/// Binary field `name` of a stored object, or the value itself when `name` is empty; refuses
/// anything else and anything larger than a record may be.
pub(crate) fn bytes_of(value: &JsValue, name: &str) -> Result<Vec<u8>, StoreError> {
    bytes_of_at_most(value, name, MAX_RECORD_LEN)
}

/// [`bytes_of`] for a field that may hold up to `max` bytes.
pub(crate) fn bytes_of_at_most(value: &JsValue, name: &str, max: usize) -> Result<Vec<u8>, StoreError> {
    let field = if name.is_empty() {
        value.clone()
    } else {
        Reflect::get(value, &JsValue::from_str(name)).map_err(js_error)?
    };
    // Values come back as stored (`Uint8Array`); binary keys come back as `ArrayBuffer`.
    let array = match field.dyn_into::<Uint8Array>() {
        Ok(array) => array,
        Err(other) => match other.dyn_into::<ArrayBuffer>() {
            Ok(buffer) => Uint8Array::new(&buffer),
            Err(_) => return Err(StoreError::Corrupt(format!("field {name:?} is not binary"))),
        },
    };
    if array.length() as usize > max {
        return Err(StoreError::Corrupt(format!(
            "field {name:?} of {} bytes",
            array.length()
        )));
    }
    Ok(array.to_vec())
}

/// Fixed-size binary field.
pub(crate) fn array_of<const N: usize>(value: &JsValue, name: &str) -> Result<[u8; N], StoreError> {
    bytes_of(value, name)?
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("field {name:?} is not {N} bytes")))
}

/// Keys from `prefix` (inclusive) up to everything starting with it.
pub(crate) fn prefix_range(prefix: &[u8]) -> KeyRange<JsValue> {
    KeyRange::Bound(bin(prefix), false, bin(&prefix_end(prefix)), false)
}

/// A key above every key of up to 64 bytes more that starts with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut upper = prefix.to_vec();
    upper.extend_from_slice(&[0xff; 64]);
    upper
}

pub(crate) fn js_error(value: JsValue) -> StoreError {
    backend(Error::from(value))
}
