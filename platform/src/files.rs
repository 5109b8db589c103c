//! Secret files: read if present, else created atomically with mode 0600.

use std::{
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
};

/// The bytes of `path`, or `None` if it does not exist.
pub(crate) fn read_if_present(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Writes a new secret file readable and writable by its owner only.
///
/// The bytes go to `<path>.tmp` first and are synced, then linked to `path`, so a crash leaves
/// either no file or the whole file, never a truncated identity. The link fails if `path`
/// exists: an existing file is never replaced.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty());
    if let Some(parent) = parent {
        fs::create_dir_all(parent)?;
    }
    let temporary = temporary_path(path);
    // A leftover from a crash before the rename: it never was the identity.
    match fs::remove_file(&temporary) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    let linked = fs::hard_link(&temporary, path);
    fs::remove_file(&temporary)?;
    linked?;
    if let Some(parent) = parent {
        // The new name must survive a power loss too; not every platform can sync a directory.
        if let Ok(directory) = fs::File::open(parent) {
            let _ = directory.sync_all();
        }
    }
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_private_and_never_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret");
        assert_eq!(read_if_present(&path).unwrap(), None);
        write_private(&path, b"first").unwrap();
        assert_eq!(read_if_present(&path).unwrap().as_deref(), Some(&b"first"[..]));
        assert!(write_private(&path, b"second").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert!(!temporary_path(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_leftover_temporary_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(temporary_path(&path), b"half").unwrap();
        write_private(&path, b"whole").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"whole");
    }
}
