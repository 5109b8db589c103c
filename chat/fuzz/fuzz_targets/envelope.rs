//! `Envelope::decode` on untrusted bytes: never panics; whatever it accepts re-encodes to the
//! same bytes, and taking it into a log (with its author as a member) never panics either.
#![no_main]

use chat::contract::block_on;
use chat::{Clock, Conversation, ConversationStore as _, Envelope, MemoryStore, log};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::decode(data) else {
        return;
    };
    assert_eq!(envelope.as_bytes(), data);
    assert_eq!(Envelope::decode_stored(data).as_ref(), Ok(&envelope));
    let store = MemoryStore::new();
    let content = envelope.content();
    let conversation = Conversation {
        id: content.conversation,
        members: vec![content.author],
        title: String::new(),
        heads: vec![],
        read_marker: None,
    };
    block_on(store.put_conversation(conversation)).ok();
    let now = envelope.content().time.wall_ms();
    let inserted = block_on(log::receive(&store, &mut Clock::new(), now, data));
    if let Ok(inserted) = inserted {
        assert_eq!(inserted.id, envelope.id());
    }
});
