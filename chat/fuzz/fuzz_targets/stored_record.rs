//! Stored records read back from a (possibly corrupt) database: never panic; what decodes
//! re-encodes to the same bytes.
#![no_main]

use chat::store::{StoredMessage, decode_record, encode_record};
use chat::{Contact, Conversation, OutboxEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = StoredMessage::from_bytes(data) {
        assert_eq!(record.to_bytes(), data);
    }
    if let Ok(conversation) = decode_record::<Conversation>(data) {
        assert_eq!(encode_record(&conversation).ok().as_deref(), Some(data));
    }
    if let Ok(contact) = decode_record::<Contact>(data) {
        assert_eq!(encode_record(&contact).ok().as_deref(), Some(data));
    }
    if let Ok(entry) = decode_record::<OutboxEntry>(data) {
        assert_eq!(encode_record(&entry).ok().as_deref(), Some(data));
    }
});
