//! Quote generation through Linux configfs-tsm (`/sys/kernel/config/tsm/report`), feature
//! `tsm`: [`ConfigfsTsm`] and what it returns; and a server's [`QuoteSource`], configfs-tsm or
//! (feature `sim`) a simulated platform in its place.

pub use crate::configfs::{
    ConfigfsTsm, DEFAULT_TSM_REPORT_ROOT, GeneratedQuote, TDX_PROVIDER, TsmError,
};
pub use crate::quote_source::{QuoteSource, QuoteSourceError};
