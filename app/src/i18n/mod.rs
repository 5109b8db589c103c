//! User-facing text. Every string the UI shows lives in `ko.rs` or `en.rs`, one file per language.

mod en;
mod ko;

/// A language the UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Korean: the default.
    Ko,
    /// English: when the browser prefers it, or chosen in Settings.
    En,
}

impl Lang {
    /// Every language, in the order Settings offers them.
    pub const ALL: [Lang; 2] = [Lang::Ko, Lang::En];

    /// The BCP 47 tag, for `<html lang>` and storage.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// Parses a stored or browser-reported tag (`ko`, `en-US`, ...); `None` for other languages.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ko") {
            Some(Lang::Ko)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language to start in: an explicit choice wins; otherwise the first of the browser's
    /// preferred languages that we speak; otherwise Korean.
    pub fn choose<'a>(stored: Option<&str>, preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        stored
            .and_then(Lang::from_tag)
            .or_else(|| preferred.into_iter().find_map(Lang::from_tag))
            .unwrap_or(Lang::Ko)
    }

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Ko => &ko::STRINGS,
            Lang::En => &en::STRINGS,
        }
    }
}

/// Every user-facing string of the app.
#[derive(Debug)]
pub struct Strings {
    pub app_name: &'static str,
    pub nav_label: &'static str,
    pub nav_chats: &'static str,
    pub nav_wallet: &'static str,
    pub nav_merchant: &'static str,
    pub nav_settings: &'static str,
    pub status_checking: &'static str,
    pub status_online: &'static str,
    pub status_unreachable: &'static str,
    pub chats_title: &'static str,
    pub chats_empty_title: &'static str,
    pub chats_empty_body: &'static str,
    pub wallet_title: &'static str,
    pub wallet_empty_title: &'static str,
    pub wallet_empty_body: &'static str,
    pub merchant_title: &'static str,
    pub merchant_empty_title: &'static str,
    pub merchant_empty_body: &'static str,
    pub settings_title: &'static str,
    pub settings_language: &'static str,
    pub settings_device: &'static str,
    pub settings_device_key: &'static str,
    pub settings_device_opening: &'static str,
    pub settings_storage_persistent: &'static str,
    pub settings_storage_best_effort: &'static str,
    pub settings_backup_note: &'static str,
    pub settings_contact_key: &'static str,
    pub settings_contact_key_hint: &'static str,
    pub backup_title: &'static str,
    pub backup_passphrase: &'static str,
    pub backup_passphrase_repeat: &'static str,
    pub backup_create: &'static str,
    pub backup_working: &'static str,
    pub backup_created: &'static str,
    pub backup_download: &'static str,
    pub restore_title: &'static str,
    pub restore_text: &'static str,
    pub restore_passphrase: &'static str,
    pub restore_open: &'static str,
    pub restore_confirm: &'static str,
    pub restore_current_key: &'static str,
    pub restore_backup_key: &'static str,
    pub restore_replace: &'static str,
    pub restore_cancel: &'static str,
    pub restore_same_key: &'static str,
    pub backup_error_mismatch: &'static str,
    pub backup_error_not_a_backup: &'static str,
    pub backup_error_damaged: &'static str,
    pub backup_error_version: &'static str,
    pub backup_error_wrong_passphrase: &'static str,
    pub backup_error_too_short: &'static str,
    pub backup_error_too_long: &'static str,
    pub contacts_title: &'static str,
    pub contact_key_label: &'static str,
    pub contact_name_label: &'static str,
    pub contact_add: &'static str,
    pub contact_added: &'static str,
    pub contact_error_key: &'static str,
    pub contact_error_weak_key: &'static str,
    pub contact_error_name: &'static str,
    pub storage_full: &'static str,
    pub storage_unavailable: &'static str,
    pub settings_about: &'static str,
    pub settings_about_body: &'static str,
    pub language_name_ko: &'static str,
    pub language_name_en: &'static str,
    pub update_ready: &'static str,
    pub update_reload: &'static str,
    pub not_found_title: &'static str,
    pub not_found_link: &'static str,
    pub peers_title: &'static str,
    pub network_starting: &'static str,
    pub network_reserving: &'static str,
    pub network_reachable: &'static str,
    pub network_no_relay: &'static str,
    pub network_failed: &'static str,
    pub peers_address_label: &'static str,
    pub peers_connect: &'static str,
    pub peers_bad_address: &'static str,
    pub link_direct: &'static str,
    pub link_relayed: &'static str,
    pub link_none: &'static str,
    pub check_count_label: &'static str,
    pub check_run: &'static str,
    pub check_running: &'static str,
    pub check_answered: &'static str,
    pub check_median: &'static str,
    pub check_p99: &'static str,
    pub check_stopped: &'static str,
    pub oob_title: &'static str,
    pub oob_intro: &'static str,
    pub oob_my_id: &'static str,
    pub oob_peer_id: &'static str,
    pub oob_invite: &'static str,
    pub oob_invitation: &'static str,
    pub oob_received: &'static str,
    pub oob_answer: &'static str,
    pub oob_answer_text: &'static str,
    pub oob_accept: &'static str,
    pub oob_failed: &'static str,
    pub qr_label: &'static str,
    pub qr_too_long: &'static str,
    pub links_direct: &'static str,
    pub links_relayed: &'static str,
}

impl Strings {
    /// The name of `lang`, in that language's own words where it helps the reader find it.
    pub fn language_name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ko => self.language_name_ko,
            Lang::En => self.language_name_en,
        }
    }
}
