//! A server's source of quotes: configfs-tsm on TDX hardware or, for tests and demos, a
//! simulated platform in its place. Either way the server asks for a quote over the REPORTDATA
//! it binds and gets bytes; only the simulated one also has the root and collateral a client
//! must be given, since hardware quotes chain to Intel's root and Intel PCS serves theirs.

use crate::configfs::{ConfigfsTsm, TsmError};
use crate::errors::ParseError;
use crate::parse::Quote;
#[cfg(feature = "sim")]
use crate::sim::{QuoteSpec, SimError, SimPlatform};

/// Where a server's quotes come from: [`ConfigfsTsm`] on TDX hardware, or (feature `sim`) a
/// [`SimPlatform`](crate::sim::SimPlatform), which is NOT a TEE.
pub struct QuoteSource {
    platform: Platform,
}

enum Platform {
    Tsm(ConfigfsTsm),
    #[cfg(feature = "sim")]
    Sim {
        platform: Box<SimPlatform>,
        spec: Box<QuoteSpec>,
        /// How long each quote takes, standing in for configfs-tsm's (tens of milliseconds on
        /// hardware), so that tests can see how a server schedules quotes.
        latency: std::time::Duration,
        /// Quotes being made now, and the most there have been at once.
        in_flight: std::sync::atomic::AtomicUsize,
        peak_in_flight: std::sync::atomic::AtomicUsize,
    },
}

impl core::fmt::Debug for QuoteSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The simulated platform holds private keys: name the kind only.
        let kind = match &self.platform {
            Platform::Tsm(_) => "configfs-tsm",
            #[cfg(feature = "sim")]
            Platform::Sim { .. } => "simulated",
        };
        f.debug_struct("QuoteSource")
            .field("platform", &kind)
            .finish()
    }
}

/// Why a quote source could not be opened or could not produce a quote.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuoteSourceError {
    /// configfs-tsm refused (not available, I/O, a racing writer, a wrong provider...); its
    /// messages name configfs-tsm.
    #[error(transparent)]
    Tsm(#[from] TsmError),
    /// The simulated platform failed.
    #[cfg(feature = "sim")]
    #[error("simulated TDX platform: {0}")]
    Sim(#[from] SimError),
    /// A quote of the source does not parse.
    #[error("quote does not parse: {0}")]
    Parse(#[from] ParseError),
}

impl QuoteSource {
    /// TDX hardware through `tsm`; refused when its report root is not there (not a TD, or
    /// configfs not mounted), so that a server fails at start rather than at its first quote.
    pub fn configfs_tsm(tsm: ConfigfsTsm) -> Result<Self, QuoteSourceError> {
        if !tsm.is_available() {
            return Err(TsmError::Unavailable {
                path: tsm.root().to_path_buf(),
            }
            .into());
        }
        Ok(Self {
            platform: Platform::Tsm(tsm),
        })
    }

    /// A simulated platform whose quotes are `spec` with the REPORTDATA asked for. FOR TESTS
    /// AND DEMOS ONLY: its quotes verify only against its own root.
    #[cfg(feature = "sim")]
    pub fn simulated(platform: SimPlatform, spec: QuoteSpec) -> Self {
        Self {
            platform: Platform::Sim {
                platform: Box::new(platform),
                spec: Box::new(spec),
                latency: std::time::Duration::ZERO,
                in_flight: 0.into(),
                peak_in_flight: 0.into(),
            },
        }
    }

    /// The same simulated source, each quote taking `latency` (the calling thread sleeps), as
    /// configfs-tsm's take tens of milliseconds on hardware: for tests of how a server
    /// schedules quotes (with [`Self::peak_quotes_in_flight`]). No effect on hardware.
    #[cfg(feature = "sim")]
    #[must_use]
    pub fn with_simulated_latency(mut self, latency: std::time::Duration) -> Self {
        if let Platform::Sim { latency: held, .. } = &mut self.platform {
            *held = latency;
        }
        self
    }

    /// The most quotes a simulated source has been asked for at once (overlapping
    /// [`Self::quote`] calls); `None` on hardware, whose kernel interface does its own
    /// queueing.
    #[cfg(feature = "sim")]
    pub fn peak_quotes_in_flight(&self) -> Option<usize> {
        match &self.platform {
            Platform::Sim { peak_in_flight, .. } => {
                Some(peak_in_flight.load(std::sync::atomic::Ordering::SeqCst))
            }
            Platform::Tsm(_) => None,
        }
    }

    /// A quote whose REPORTDATA is `report_data`.
    pub fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, QuoteSourceError> {
        match &self.platform {
            Platform::Tsm(tsm) => Ok(tsm.generate_quote(report_data)?.quote),
            #[cfg(feature = "sim")]
            Platform::Sim {
                platform,
                spec,
                latency,
                in_flight,
                peak_in_flight,
            } => {
                use std::sync::atomic::Ordering::SeqCst;
                let now_in_flight = in_flight.fetch_add(1, SeqCst).saturating_add(1);
                peak_in_flight.fetch_max(now_in_flight, SeqCst);
                if !latency.is_zero() {
                    std::thread::sleep(*latency);
                }
                let quote = platform.quote(&QuoteSpec {
                    report_data: *report_data,
                    ..(**spec).clone()
                });
                in_flight.fetch_sub(1, SeqCst);
                Ok(quote?)
            }
        }
    }

    /// The MRTD the source's quotes state: informative (what a server logs at start), not
    /// verified.
    pub fn mr_td(&self) -> Result<[u8; 48], QuoteSourceError> {
        let quote = self.quote(&[0; 64])?;
        Ok(*Quote::parse_allowing_trailing_data(&quote)?
            .report()
            .mr_td())
    }

    /// Whether the quotes come from a simulated platform (NOT a TEE).
    pub fn is_simulated(&self) -> bool {
        !matches!(self.platform, Platform::Tsm(_))
    }

    /// The simulated platform, whose root certificate a client must be told to trust and whose
    /// collateral it needs; `None` on hardware.
    #[cfg(feature = "sim")]
    pub fn sim_platform(&self) -> Option<&SimPlatform> {
        match &self.platform {
            Platform::Sim { platform, .. } => Some(platform),
            Platform::Tsm(_) => None,
        }
    }
}
