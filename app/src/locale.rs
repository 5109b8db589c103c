//! The UI language: chosen once at start, changed in Settings, remembered on this device.

use leptos::prelude::*;

use crate::i18n::{Lang, Strings};

/// Where the explicit choice is remembered. A setting, not user data: localStorage suffices.
const STORAGE_KEY: &str = "om.lang";

/// The current language, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Locale {
    lang: RwSignal<Lang>,
}

impl Locale {
    /// Starts in the stored choice, else the browser's preference, else Korean; keeps
    /// `<html lang>` in step.
    pub fn start() -> Self {
        let lang = RwSignal::new(Lang::choose(stored_choice().as_deref(), browser_languages().iter().map(String::as_str)));
        Effect::new(move || {
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("lang", lang.get().tag());
            }
            document().set_title(lang.get().strings().app_name);
        });
        Self { lang }
    }

    /// The current language (tracked).
    pub fn get(&self) -> Lang {
        self.lang.get()
    }

    /// The current strings (tracked).
    pub fn strings(&self) -> &'static Strings {
        self.lang.get().strings()
    }

    /// Switches language and remembers the choice.
    pub fn set(&self, lang: Lang) {
        if let Some(storage) = local_storage() {
            // A failed write only means the choice is not remembered; the switch still happens.
            let _ = storage.set_item(STORAGE_KEY, lang.tag());
        }
        self.lang.set(lang);
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn stored_choice() -> Option<String> {
    local_storage()?.get_item(STORAGE_KEY).ok().flatten()
}

fn browser_languages() -> Vec<String> {
    window().navigator().languages().iter().filter_map(|value| value.as_string()).collect()
}
