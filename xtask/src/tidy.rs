//! Checks on the repository itself, run as tests.

#[cfg(test)]
mod tests {
    use crate::util::{locked_version, project_root};

    /// Trunk looks for a wasm-bindgen CLI of the version in Trunk.toml; the app is built with
    /// the version in Cargo.lock; they must agree or Trunk fails offline.
    #[test]
    fn trunk_pins_the_locked_wasm_bindgen() {
        let trunk = std::fs::read_to_string(project_root().join("Trunk.toml")).unwrap();
        let pinned = trunk
            .lines()
            .find_map(|line| line.strip_prefix("wasm_bindgen = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap();
        assert_eq!(pinned, locked_version("wasm-bindgen").unwrap());
    }

    /// `.ci/run` must call the README's test command and nothing the README does not tell a user.
    #[test]
    fn ci_runs_the_readme_test_command() {
        let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
        let ci = std::fs::read_to_string(project_root().join(".ci/run")).unwrap();
        assert!(readme.contains("cargo xtask test"));
        let commands: Vec<&str> =
            ci.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("set ") && !l.starts_with("cd ")).collect();
        assert_eq!(commands, ["cargo xtask test"]);
    }
}
