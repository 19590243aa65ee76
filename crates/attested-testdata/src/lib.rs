//! Finds the read-only test data of the attested workspace.
//!
//! The data lives in the repository's `testdata/` folder (see its README for sources and
//! licences); `ATTESTED_TESTDATA` overrides the location. When a file is missing, a test that
//! needs it prints a notice and skips, except under `CI=true`, where a missing file fails the
//! test: CI must never pass by skipping.

use std::path::{Path, PathBuf};

#[cfg(feature = "tls")]
pub mod tls;

/// The test data folder: `ATTESTED_TESTDATA`, or the workspace's `testdata/`.
pub fn dir() -> PathBuf {
    std::env::var_os("ATTESTED_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"))
}

/// Whether this run is CI, where skipping for missing data is a failure.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The path of `relative` inside the test data, or `None` (after printing a notice) when the
/// test data is absent and this is not CI.
///
/// # Panics
/// Under `CI=true` when the file is missing, so that CI cannot pass by skipping.
#[allow(clippy::panic)]
pub fn path(relative: &str) -> Option<PathBuf> {
    let path = dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    if in_ci() {
        panic!(
            "test data {} is missing (ATTESTED_TESTDATA = {})",
            path.display(),
            dir().display()
        );
    }
    eprintln!(
        "notice: skipping, test data {} is missing (set ATTESTED_TESTDATA)",
        path.display()
    );
    None
}

/// The bytes of `relative` inside the test data, or `None` as for [`path`].
///
/// # Panics
/// When the file exists but cannot be read, or under `CI=true` when it is missing.
#[allow(clippy::panic)]
pub fn read(relative: &str) -> Option<Vec<u8>> {
    let path = path(relative)?;
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) => panic!("cannot read test data {}: {err}", path.display()),
    }
}

/// The bytes of a hex text file inside the test data (an `0x` prefix and whitespace ignored), or `None` as for
/// [`path`].
///
/// # Panics
/// When the file is not hex, or as for [`read`].
#[allow(clippy::panic)]
pub fn read_hex(relative: &str) -> Option<Vec<u8>> {
    let text = read(relative)?;
    let text = text.strip_prefix(b"0x").unwrap_or(&text);
    let digits: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        panic!("test data {relative} has an odd number of hex digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .unwrap_or_else(|| panic!("test data {relative} is not hex"))
        })
        .map(Some)
        .collect()
}

/// The committed fuzz seeds of `target` (`fuzz/corpus/TARGET/NAME`) are exactly `seeds`, what
/// the code makes today; with `ATTESTED_WRITE_FUZZ_SEEDS` set (the one variable of every
/// crate's fuzz-seed test) they are written instead.
///
/// # Panics
/// When a seed is missing or stale (the message says how to regenerate it), or cannot be
/// written.
#[allow(clippy::panic)]
pub fn check_or_write_fuzz_seeds(target: &str, seeds: &[(impl AsRef<str>, Vec<u8>)]) {
    let dir = fuzz_corpus(target);
    let write = std::env::var_os("ATTESTED_WRITE_FUZZ_SEEDS").is_some();
    if write && let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("{}: {e}", dir.display());
    }
    for (name, bytes) in seeds {
        let path = dir.join(name.as_ref());
        if write {
            if let Err(e) = std::fs::write(&path, bytes) {
                panic!("{}: {e}", path.display());
            }
            continue;
        }
        let committed = committed_fuzz_seed(target, name.as_ref());
        assert!(
            &committed == bytes,
            "{} is stale; regenerate with ATTESTED_WRITE_FUZZ_SEEDS=1",
            path.display()
        );
    }
}

/// The committed fuzz seed `fuzz/corpus/TARGET/NAME`.
///
/// # Panics
/// When it cannot be read (the message says how to regenerate it).
#[allow(clippy::panic)]
pub fn committed_fuzz_seed(target: &str, name: &str) -> Vec<u8> {
    let path = fuzz_corpus(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with ATTESTED_WRITE_FUZZ_SEEDS=1",
            path.display()
        )
    })
}

fn fuzz_corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}
