//! Quote generation through Linux configfs-tsm (`/sys/kernel/config/tsm/report`).
//!
//! The kernel's interface: create a directory under the report root, write 64 bytes of
//! REPORTDATA to its `inblob`, read the quote from `outblob`. Every write to the entry bumps
//! `generation`; if it moved by more than our own write by the time we read `outblob`, another
//! process wrote to the same entry and the quote may carry *its* REPORTDATA, so the quote is
//! refused. The entry is removed afterwards, whether generation succeeded or not.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::parse::Quote;

/// Where the kernel mounts the configfs-tsm report interface.
pub const DEFAULT_TSM_REPORT_ROOT: &str = "/sys/kernel/config/tsm/report";

/// The provider name the TDX guest driver registers.
pub const TDX_PROVIDER: &str = "tdx_guest";

/// Why a quote could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsmError {
    /// The configfs-tsm report root does not exist: no TDX guest driver, configfs not mounted,
    /// or not a TD.
    #[error(
        "configfs-tsm is not available: {path} does not exist (is this a TD with the \
         tdx_guest driver, and is configfs mounted?)"
    )]
    Unavailable {
        /// The report root that was looked for.
        path: PathBuf,
    },
    /// A file of the report entry could not be created, read or written.
    #[error("configfs-tsm {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// `generation` is not a decimal number.
    #[error("configfs-tsm {path}: generation is not a number")]
    InvalidGeneration {
        /// The `generation` file.
        path: PathBuf,
    },
    /// Another writer used the report entry between our write and our read.
    #[error(
        "configfs-tsm race: generation moved from {before} to {after} around our single write; \
         the quote may carry another writer's REPORTDATA"
    )]
    GenerationRaced {
        /// `generation` before our write.
        before: u64,
        /// `generation` after reading the quote.
        after: u64,
    },
    /// The provider is not the TDX guest driver (for example `sev_guest`).
    #[error("configfs-tsm provider is {provider:?}, not {TDX_PROVIDER:?}")]
    WrongProvider {
        /// The provider found.
        provider: String,
    },
    /// `outblob` does not parse as a TDX quote.
    #[error("configfs-tsm outblob is not a TDX quote: {0}")]
    InvalidQuote(crate::errors::ParseError),
    /// The quote does not carry the REPORTDATA that was written.
    #[error("configfs-tsm quote does not carry the REPORTDATA written to inblob")]
    ReportDataMismatch,
}

/// A quote produced by configfs-tsm.
#[derive(Debug, Clone)]
pub struct GeneratedQuote {
    /// The quote bytes, as `outblob` returned them.
    pub quote: Vec<u8>,
    /// The provider that produced it.
    pub provider: String,
    /// `generation` of the entry after the quote was read.
    pub generation: u64,
}

/// Generates TDX quotes through configfs-tsm.
#[derive(Debug, Clone)]
pub struct ConfigfsTsm {
    root: PathBuf,
}

impl Default for ConfigfsTsm {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigfsTsm {
    /// Uses the kernel's report root, [`DEFAULT_TSM_REPORT_ROOT`].
    pub fn new() -> Self {
        Self::with_root(DEFAULT_TSM_REPORT_ROOT)
    }

    /// Uses another report root (a test directory, or configfs mounted elsewhere).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The report root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the report root exists.
    pub fn is_available(&self) -> bool {
        self.root.is_dir()
    }

    /// Asks the TDX module for a quote whose REPORTDATA is `report_data`.
    ///
    /// The quote is checked to be a well-formed TDX quote that carries `report_data`; it is not
    /// verified (that needs collateral, and is the relying party's job).
    pub fn generate_quote(&self, report_data: &[u8; 64]) -> Result<GeneratedQuote, TsmError> {
        generate_with(&KernelFs, &self.root, report_data)
    }
}

/// The file operations generation needs, so that tests can stand in for the kernel.
trait ReportFs {
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

struct KernelFs;

impl ReportFs for KernelFs {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        std::fs::write(path, bytes)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// A name no other entry of this process uses; other processes pick other names by their pid.
fn entry_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "attested-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn generate_with(
    fs: &dyn ReportFs,
    root: &Path,
    report_data: &[u8; 64],
) -> Result<GeneratedQuote, TsmError> {
    if !root.is_dir() {
        return Err(TsmError::Unavailable {
            path: root.to_path_buf(),
        });
    }
    let entry = root.join(entry_name());
    fs.create_dir(&entry).map_err(|source| TsmError::Io {
        path: entry.clone(),
        source,
    })?;
    let result = generate_in_entry(fs, &entry, report_data);
    let removed = fs.remove_dir(&entry);
    let generated = result?;
    removed.map_err(|source| TsmError::Io {
        path: entry,
        source,
    })?;
    Ok(generated)
}

fn generate_in_entry(
    fs: &dyn ReportFs,
    entry: &Path,
    report_data: &[u8; 64],
) -> Result<GeneratedQuote, TsmError> {
    let read = |name: &str| {
        let path = entry.join(name);
        fs.read(&path)
            .map_err(|source| TsmError::Io { path, source })
    };
    let generation = |bytes: Vec<u8>| {
        let path = entry.join("generation");
        String::from_utf8(bytes)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or(TsmError::InvalidGeneration { path })
    };

    let before = generation(read("generation")?)?;
    let inblob = entry.join("inblob");
    fs.write(&inblob, report_data)
        .map_err(|source| TsmError::Io {
            path: inblob,
            source,
        })?;
    let quote = read("outblob")?;
    let provider = String::from_utf8_lossy(&read("provider")?)
        .trim()
        .to_owned();
    let after = generation(read("generation")?)?;
    if after != before.wrapping_add(1) {
        return Err(TsmError::GenerationRaced { before, after });
    }
    if provider != TDX_PROVIDER {
        return Err(TsmError::WrongProvider { provider });
    }
    let parsed = Quote::parse(&quote).map_err(TsmError::InvalidQuote)?;
    if parsed.report().report_data() != report_data {
        return Err(TsmError::ReportDataMismatch);
    }
    Ok(GeneratedQuote {
        quote,
        provider,
        generation: after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Stands in for the kernel over a temporary directory laid out like configfs: creating an
    /// entry populates its attributes, and a write to `inblob` bumps `generation` and produces
    /// `outblob` from a template quote with the written REPORTDATA spliced in.
    struct FakeKernel {
        template: Vec<u8>,
        provider: &'static str,
        /// Writes another process makes to the entry between our write and our read.
        concurrent_writes: u64,
        /// Overwrites REPORTDATA in the produced quote, as a confused provider would.
        corrupt_report_data: bool,
        removed: Cell<bool>,
    }

    impl FakeKernel {
        fn new(template: Vec<u8>) -> Self {
            Self {
                template,
                provider: TDX_PROVIDER,
                concurrent_writes: 0,
                corrupt_report_data: false,
                removed: Cell::new(false),
            }
        }
    }

    impl ReportFs for FakeKernel {
        fn create_dir(&self, path: &Path) -> io::Result<()> {
            std::fs::create_dir(path)?;
            std::fs::write(path.join("generation"), "0\n")?;
            std::fs::write(path.join("provider"), format!("{}\n", self.provider))?;
            std::fs::write(path.join("outblob"), [])
        }

        fn remove_dir(&self, path: &Path) -> io::Result<()> {
            self.removed.set(true);
            std::fs::remove_dir_all(path)
        }

        fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
            let entry = path.parent().unwrap();
            let generation: u64 = std::fs::read_to_string(entry.join("generation"))?
                .trim()
                .parse()
                .unwrap();
            std::fs::write(
                entry.join("generation"),
                format!("{}\n", generation + 1 + self.concurrent_writes),
            )?;
            let mut quote = self.template.clone();
            let report_data = if self.corrupt_report_data {
                &[7u8; 64][..]
            } else {
                bytes
            };
            quote[568..632].copy_from_slice(report_data);
            std::fs::write(entry.join("outblob"), quote)
        }

        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            std::fs::read(path)
        }
    }

    /// A v4 quote for the fake kernel to splice REPORTDATA into.
    #[cfg(feature = "sim")]
    fn template_quote() -> Option<Vec<u8>> {
        use crate::sim::{QuoteFormat, SimPlatform};
        let platform = SimPlatform::from_seed(b"tsm test", 1_750_000_000).unwrap();
        Some(
            platform
                .quote(&platform.quote_spec(QuoteFormat::V4))
                .unwrap(),
        )
    }

    #[cfg(not(feature = "sim"))]
    fn template_quote() -> Option<Vec<u8>> {
        attested_testdata::read("tdx/dcap-qvl/tdx_quote")
    }

    #[test]
    fn generates_a_quote_carrying_the_report_data() {
        let Some(template) = template_quote() else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let kernel = FakeKernel::new(template);
        let report_data = [0x5a; 64];
        let generated = generate_with(&kernel, root.path(), &report_data).unwrap();
        assert_eq!(generated.provider, TDX_PROVIDER);
        assert_eq!(generated.generation, 1);
        let quote = Quote::parse(&generated.quote).unwrap();
        assert_eq!(quote.report().report_data(), &report_data);
        assert!(kernel.removed.get());
        assert_eq!(
            std::fs::read_dir(root.path()).unwrap().count(),
            0,
            "entry left behind"
        );
    }

    #[test]
    fn a_concurrent_writer_is_detected() {
        let Some(template) = template_quote() else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let kernel = FakeKernel {
            concurrent_writes: 1,
            ..FakeKernel::new(template)
        };
        let err = generate_with(&kernel, root.path(), &[1; 64]).unwrap_err();
        assert!(
            matches!(
                err,
                TsmError::GenerationRaced {
                    before: 0,
                    after: 2
                }
            ),
            "{err}"
        );
        assert!(
            kernel.removed.get(),
            "the entry is removed after a failure too"
        );
    }

    #[test]
    fn another_provider_or_report_data_is_refused() {
        let Some(template) = template_quote() else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let sev = FakeKernel {
            provider: "sev_guest",
            ..FakeKernel::new(template.clone())
        };
        let err = generate_with(&sev, root.path(), &[1; 64]).unwrap_err();
        assert!(matches!(err, TsmError::WrongProvider { ref provider } if provider == "sev_guest"));
        let confused = FakeKernel {
            corrupt_report_data: true,
            ..FakeKernel::new(template)
        };
        let err = generate_with(&confused, root.path(), &[1; 64]).unwrap_err();
        assert!(matches!(err, TsmError::ReportDataMismatch), "{err}");
    }

    #[test]
    fn a_missing_root_says_configfs_tsm_is_unavailable() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("tsm/report");
        let tsm = ConfigfsTsm::with_root(&missing);
        assert!(!tsm.is_available());
        let err = tsm.generate_quote(&[1; 64]).unwrap_err();
        assert!(matches!(err, TsmError::Unavailable { ref path } if *path == missing));
        assert!(err.to_string().contains("configfs-tsm is not available"));
    }

    #[test]
    fn a_directory_that_is_not_configfs_fails_by_name_and_is_cleaned_up() {
        // A plain directory: our mkdir works, but no kernel populates the entry.
        let root = tempfile::tempdir().unwrap();
        let err = ConfigfsTsm::with_root(root.path())
            .generate_quote(&[1; 64])
            .unwrap_err();
        assert!(
            matches!(err, TsmError::Io { ref path, .. } if path.ends_with("generation")),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(root.path()).unwrap().count(),
            0,
            "entry left behind"
        );
    }

    #[test]
    fn a_garbled_generation_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let entry = root.path().join("e");
        std::fs::create_dir(&entry).unwrap();
        std::fs::write(entry.join("generation"), "not a number").unwrap();
        let err = generate_in_entry(&KernelFs, &entry, &[1; 64]).unwrap_err();
        assert!(matches!(err, TsmError::InvalidGeneration { .. }), "{err}");
    }
}
