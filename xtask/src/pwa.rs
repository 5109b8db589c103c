//! Trunk's post-build hook: finishes the PWA in Trunk's staging directory.
//!
//! 1. Trunk writes its wasm loader as an inline `<script type="module">`; the platform's
//!    Content-Security-Policy allows no inline script, so the loader moves to
//!    `boot-<hash>.js` and index.html points at it.
//! 2. `sw.js` gets the list of every built file and a version derived from their contents, so
//!    each deployment precaches exactly its own files under its own cache name.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};

const WORKER: &str = "sw.js";
const FILES_PLACEHOLDER: &str = "/*PRECACHE_FILES*/[]";
const VERSION_PLACEHOLDER: &str = "/*PRECACHE_VERSION*/";
const INLINE_MODULE: &str = "<script type=\"module\">";

pub(crate) fn finish(dir: &Path) -> anyhow::Result<()> {
    externalize_loader(dir)?;
    write_precache_list(dir)
}

fn externalize_loader(dir: &Path) -> anyhow::Result<()> {
    let index_path = dir.join("index.html");
    let index = std::fs::read_to_string(&index_path).with_context(|| format!("cannot read {}", index_path.display()))?;
    let Some(start) = index.find(INLINE_MODULE) else {
        return Ok(());
    };
    let body_start = start + INLINE_MODULE.len();
    let Some(body_len) = index[body_start..].find("</script>") else {
        bail!("unterminated inline script in {}", index_path.display());
    };
    let loader = &index[body_start..body_start + body_len];
    let name = format!("boot-{:016x}.js", fnv1a(loader.as_bytes()));
    std::fs::write(dir.join(&name), loader.trim())?;
    let script = format!("<script type=\"module\" src=\"/{name}\"></script>");
    let rewritten = format!("{}{script}{}", &index[..start], &index[body_start + body_len + "</script>".len()..]);
    if rewritten.contains(INLINE_MODULE) {
        bail!("more than one inline script in {}: the CSP would block the others", index_path.display());
    }
    std::fs::write(&index_path, rewritten)?;
    Ok(())
}

fn write_precache_list(dir: &Path) -> anyhow::Result<()> {
    let worker_path = dir.join(WORKER);
    let template = std::fs::read_to_string(&worker_path).with_context(|| format!("cannot read {}", worker_path.display()))?;
    if !template.contains(FILES_PLACEHOLDER) || !template.contains(VERSION_PLACEHOLDER) {
        bail!("{} lacks the {FILES_PLACEHOLDER} or {VERSION_PLACEHOLDER} placeholder", worker_path.display());
    }
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.retain(|(url, _)| url != "/sw.js");
    files.sort();
    let mut version_input = Vec::new();
    let mut list = String::from("[");
    for (index, (url, path)) in files.iter().enumerate() {
        version_input.extend_from_slice(url.as_bytes());
        version_input.extend_from_slice(&std::fs::read(path)?);
        if index > 0 {
            list.push_str(", ");
        }
        write!(list, "\"{url}\"")?;
    }
    list.push(']');
    let worker = template
        .replace(FILES_PLACEHOLDER, &list)
        .replace(VERSION_PLACEHOLDER, &format!("{:016x}", fnv1a(&version_input)));
    std::fs::write(&worker_path, worker)?;
    println!("pwa-finish: {} files precached", files.len());
    Ok(())
}

/// (URL path, file path) of every file below `dir`.
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(root, &path, files)?;
            continue;
        }
        let relative = path.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
        if relative.contains(['"', '\\']) {
            bail!("file name {relative:?} cannot go into the precache list");
        }
        files.push((format!("/{relative}"), path));
    }
    Ok(())
}

/// FNV-1a, 64 bit: a content fingerprint for names and cache versions (not a security hash).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "const PRECACHE = /*PRECACHE_FILES*/[];\nconst VERSION = \"/*PRECACHE_VERSION*/\";\n";

    fn staging(app_js: &str) -> tempfile_dir::Dir {
        let dir = tempfile_dir::Dir::new();
        std::fs::write(dir.path().join("index.html"), "<head><script type=\"module\">import init from '/app-1.js';\nawait init();</script></head>").unwrap();
        std::fs::write(dir.path().join("app-1.js"), app_js).unwrap();
        std::fs::create_dir(dir.path().join("icons")).unwrap();
        std::fs::write(dir.path().join("icons/icon-192.png"), b"png").unwrap();
        std::fs::write(dir.path().join("sw.js"), TEMPLATE).unwrap();
        dir
    }

    #[test]
    fn moves_the_loader_out_and_lists_every_file() {
        let dir = staging("export default 1;");
        finish(dir.path()).unwrap();
        let index = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(!index.contains("await init"), "{index}");
        let boot = index.split("src=\"/").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert!(boot.starts_with("boot-") && boot.len() == "boot-0123456789abcdef.js".len(), "{boot}");
        assert!(std::fs::read_to_string(dir.path().join(&boot)).unwrap().contains("await init();"));
        let worker = std::fs::read_to_string(dir.path().join("sw.js")).unwrap();
        let expected = format!("[\"/app-1.js\", \"/{boot}\", \"/icons/icon-192.png\", \"/index.html\"]");
        assert!(worker.contains(&expected), "{worker}");
        assert!(!worker.contains("PRECACHE_VERSION"), "{worker}");
    }

    #[test]
    fn version_follows_content() {
        let version = |app_js: &str| {
            let dir = staging(app_js);
            finish(dir.path()).unwrap();
            std::fs::read_to_string(dir.path().join("sw.js")).unwrap().lines().nth(1).unwrap().to_owned()
        };
        assert_eq!(version("a"), version("a"));
        assert_ne!(version("a"), version("b"));
    }

    #[test]
    fn refuses_a_worker_without_placeholders() {
        let dir = staging("x");
        std::fs::write(dir.path().join("sw.js"), "const PRECACHE = [];").unwrap();
        assert!(finish(dir.path()).is_err());
    }

    /// A temporary directory without a dependency (xtask keeps its dependencies minimal).
    mod tempfile_dir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicU32, Ordering};

        pub(crate) struct Dir(PathBuf);

        impl Dir {
            pub(crate) fn new() -> Self {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                let path = std::env::temp_dir().join(format!("xtask-pwa-{}-{n}", std::process::id()));
                let _ = std::fs::remove_dir_all(&path);
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }
            pub(crate) fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
