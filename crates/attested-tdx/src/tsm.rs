//! Quote generation through Linux configfs-tsm (`/sys/kernel/config/tsm/report`), feature
//! `tsm`: [`ConfigfsTsm`] and what it returns.

pub use crate::configfs::{
    ConfigfsTsm, DEFAULT_TSM_REPORT_ROOT, GeneratedQuote, TDX_PROVIDER, TsmError,
};
