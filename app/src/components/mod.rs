//! Small pieces shared by the pages.

pub mod connection_banner;
pub mod empty_state;
pub mod key_backup;
pub mod link_summary;
pub mod nav_bar;
pub mod offline_link;
pub mod page_link;
pub mod peer_links;
pub mod qr_code;
pub mod storage_alert;
pub mod text_field;
pub mod update_prompt;

pub use connection_banner::ConnectionBanner;
pub use empty_state::EmptyState;
pub use key_backup::KeyBackupSection;
pub use link_summary::LinkSummary;
pub use nav_bar::NavBar;
pub use offline_link::OfflineLinkSection;
pub use page_link::PageLink;
pub use peer_links::PeerLinksSection;
pub use storage_alert::StorageAlert;
pub use update_prompt::UpdatePrompt;
