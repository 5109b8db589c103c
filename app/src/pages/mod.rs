//! One module per page.

pub mod chats;
pub mod merchant;
pub mod not_found;
pub mod settings;
pub mod wallet;

pub use chats::ChatsPage;
pub use merchant::MerchantPage;
pub use not_found::NotFoundPage;
pub use settings::SettingsPage;
pub use wallet::WalletPage;
