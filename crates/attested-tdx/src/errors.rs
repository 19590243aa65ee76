//! The crate's errors, in one place: [`ParseError`] names the field and the absolute byte
//! offset where parsing stopped; [`VerifyError`] names the signature, certificate, CRL, field or
//! date ([`Item`]) that failed verification.

use core::fmt;

use crate::time::UnixTime;

/// Why a byte string is not a well-formed TDX quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input ends inside a field.
    #[error("{field} at byte {offset}: needs {needed} bytes, only {available} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Absolute offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input (or in the enclosing length-delimited block).
        available: usize,
    },
    /// `tee_type` says this is not a TDX quote (an SGX quote has `tee_type` 0).
    #[error("not a TDX quote: tee_type at byte 4 is {tee_type:#x} (TDX is 0x81, SGX is 0x0)")]
    NotTdx {
        /// The `tee_type` found.
        tee_type: u32,
    },
    /// The quote version is not one this crate parses.
    #[error("unsupported quote version {version} at byte 0 (TDX quotes are version 4 or 5)")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// The attestation key type is not ECDSA P-256.
    #[error(
        "unsupported attestation key type {key_type} at byte 2 (only 2, ECDSA P-256, is defined)"
    )]
    UnsupportedAttestationKeyType {
        /// The key type found.
        key_type: u16,
    },
    /// A v5 body descriptor names an unknown body type.
    #[error("unsupported v5 body type {body_type} at byte 48 (2, 3 and 4 are TD reports)")]
    UnsupportedBodyType {
        /// The body type found.
        body_type: u16,
    },
    /// A v5 body descriptor's size does not match its body type.
    #[error("v5 body type {body_type}: body size at byte 50 is {declared}, must be {expected}")]
    BodySizeMismatch {
        /// The body type.
        body_type: u16,
        /// The size the descriptor declares.
        declared: u32,
        /// The size that body type has.
        expected: u32,
    },
    /// A length-delimited block holds bytes that none of its fields account for.
    #[error("{field} at byte {offset}: {extra} bytes left over inside its declared length")]
    UnconsumedBytes {
        /// The block.
        field: &'static str,
        /// Absolute offset of the first unaccounted byte.
        offset: usize,
        /// How many bytes are unaccounted for.
        extra: usize,
    },
    /// Bytes after the signature data that are not zero padding.
    #[error(
        "trailing data at byte {offset}: {len} bytes after the signature data are not zero padding"
    )]
    TrailingData {
        /// Absolute offset of the signature data's end.
        offset: usize,
        /// Length of the trailing bytes.
        len: usize,
    },
    /// A certification data block of the wrong type.
    #[error("certification data type at byte {offset} is {found}, expected {expected}")]
    UnexpectedCertificationType {
        /// Absolute offset of the type field.
        offset: usize,
        /// The type found.
        found: u16,
        /// The type required here.
        expected: u16,
    },
    /// The PCK certificate chain (certification data type 5) is not a PEM chain.
    #[error("PCK certificate chain at byte {offset}: {reason}")]
    InvalidPckChain {
        /// Absolute offset of the chain.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl ParseError {
    /// The absolute byte offset where the error was found.
    pub fn offset(&self) -> usize {
        match self {
            Self::Truncated { offset, .. }
            | Self::UnconsumedBytes { offset, .. }
            | Self::TrailingData { offset, .. }
            | Self::UnexpectedCertificationType { offset, .. }
            | Self::InvalidPckChain { offset, .. } => *offset,
            Self::NotTdx { .. } => 4,
            Self::UnsupportedVersion { .. } => 0,
            Self::UnsupportedAttestationKeyType { .. } => 2,
            Self::UnsupportedBodyType { .. } => 48,
            Self::BodySizeMismatch { .. } => 50,
        }
    }
}

/// A signed or dated thing that verification checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// The pinned trust anchor (Intel SGX Root CA by default).
    RootCa,
    /// The PCK leaf certificate in the quote's certification data.
    PckLeaf,
    /// The PCK intermediate CA (Platform or Processor CA) in the quote's certification data.
    PckCa,
    /// The root certificate carried in the quote's PCK chain.
    PckChainRoot,
    /// The CA certificate of the collateral's PCK CRL issuer chain.
    PckCrlIssuer,
    /// The TCB signing certificate of the TCB Info issuer chain.
    TcbInfoSigner,
    /// The TCB signing certificate of the QE Identity issuer chain.
    QeIdentitySigner,
    /// The root CA CRL.
    RootCaCrl,
    /// The PCK CRL.
    PckCrl,
    /// The TCB Info (`tcbInfo`) of the collateral.
    TcbInfo,
    /// The QE Identity (`enclaveIdentity`) of the collateral.
    QeIdentity,
    /// The quote header and TD report, signed by the attestation key.
    QuoteBody,
    /// The QE report, signed by the PCK leaf key.
    QeReport,
    /// The collateral as a whole (its container format).
    Collateral,
    /// The quote bytes (they do not parse).
    Quote,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Item::RootCa => "root CA certificate (trust anchor)",
            Item::PckLeaf => "PCK leaf certificate",
            Item::PckCa => "PCK CA certificate",
            Item::PckChainRoot => "root certificate of the quote's PCK chain",
            Item::PckCrlIssuer => "PCK CRL issuer certificate",
            Item::TcbInfoSigner => "TCB Info signing certificate",
            Item::QeIdentitySigner => "QE Identity signing certificate",
            Item::RootCaCrl => "root CA CRL",
            Item::PckCrl => "PCK CRL",
            Item::TcbInfo => "TCB Info",
            Item::QeIdentity => "QE Identity",
            Item::QuoteBody => "quote body (signed by the attestation key)",
            Item::QeReport => "QE report (signed by the PCK leaf key)",
            Item::Collateral => "collateral",
            Item::Quote => "quote",
        })
    }
}

/// Which end of a validity period was crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeBound {
    /// `now` is before the start (notBefore, thisUpdate, issueDate).
    NotYetValid,
    /// `now` is after the end (notAfter, nextUpdate).
    Expired,
}

/// Why a quote failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The quote is not a TDX ECDSA-P256 quote from Intel's QE that this verifier handles.
    #[error("unsupported quote: {0}")]
    UnsupportedQuote(String),
    /// Bytes that do not parse (certificate, CRL, JSON, hex, PEM).
    #[error("malformed {item}: {reason}")]
    Malformed {
        /// What failed to parse.
        item: Item,
        /// Why.
        reason: String,
    },
    /// A signature that does not verify.
    #[error("signature of the {item} does not verify")]
    BadSignature {
        /// What was signed.
        item: Item,
    },
    /// `now` lies outside an item's validity period.
    #[error("{item} is {}: {} {at}, verification time {now}", match bound { TimeBound::NotYetValid => "not yet valid", TimeBound::Expired => "expired" }, match bound { TimeBound::NotYetValid => "valid from", TimeBound::Expired => "valid until" })]
    OutsideValidity {
        /// What is out of date.
        item: Item,
        /// Which bound was crossed.
        bound: TimeBound,
        /// The bound itself.
        at: UnixTime,
        /// The verification time.
        now: UnixTime,
    },
    /// A certificate that a CRL lists.
    #[error("{item} (serial {serial}) is revoked by the {crl}")]
    Revoked {
        /// The revoked certificate.
        item: Item,
        /// The CRL that lists it.
        crl: Item,
        /// Its serial number, hex.
        serial: String,
    },
    /// A certificate or CRL that does not chain to its expected issuer.
    #[error("{item} is not issued by the {issuer}: {reason}")]
    Chain {
        /// The issued certificate or CRL.
        item: Item,
        /// The expected issuer.
        issuer: Item,
        /// What does not match.
        reason: &'static str,
    },
    /// A certificate whose subject does not name the role it is used in (QVL's subject checks:
    /// `TCBSigningChain.cpp:83`, `PckCertVerifier.cpp:79-95`, `PckCrlVerifier.cpp:159-165`).
    #[error("{item} is not a {role} certificate (subject CN {common_name:?})")]
    Role {
        /// The certificate.
        item: Item,
        /// The role it must have.
        role: &'static str,
        /// Its subject common name, if it has one.
        common_name: Option<String>,
    },
    /// A certificate whose extensions forbid its use where it stands (RFC 5280): KeyUsage
    /// without the bit its role needs, a pathLenConstraint exceeded, a critical extension the
    /// validator does not process, a CA certificate where a signer is expected.
    #[error("{item} violates {constraint}")]
    Constraint {
        /// The certificate.
        item: Item,
        /// The violated constraint.
        constraint: &'static str,
    },
    /// The QE report does not bind the attestation key and QE authentication data.
    #[error("QE report REPORTDATA does not bind the attestation key: {0}")]
    QeBinding(&'static str),
    /// A QE report field that the QE Identity does not allow.
    #[error("QE Identity mismatch in {field}: expected {expected}, got {actual}")]
    QeIdentityMismatch {
        /// The QE report field.
        field: &'static str,
        /// What the QE Identity expects (masked where it has a mask).
        expected: String,
        /// What the QE report has (masked likewise).
        actual: String,
    },
    /// The QE's ISVSVN is below every TCB level of the QE Identity.
    #[error("QE ISVSVN {isv_svn} matches no TCB level of the QE Identity")]
    QeTcbNotMatched {
        /// The QE report's ISVSVN.
        isv_svn: u16,
    },
    /// FMSPC or PCE-ID of the PCK certificate differ from the TCB Info.
    #[error("{field} of the PCK certificate ({pck}) differs from the TCB Info ({tcb_info})")]
    PlatformMismatch {
        /// `FMSPC` or `PCE-ID`.
        field: &'static str,
        /// Hex value in the PCK certificate.
        pck: String,
        /// Hex value in the TCB Info.
        tcb_info: String,
    },
    /// The platform's TCB components are below every TCB level of the TCB Info.
    #[error(
        "the platform TCB matches no TCB level of the TCB Info (FMSPC {fmspc}, evaluation data number {evaluation}): {detail}"
    )]
    NoMatchingTcbLevel {
        /// FMSPC, hex.
        fmspc: String,
        /// TCB evaluation data number of the TCB Info.
        evaluation: u32,
        /// Which SVNs, against the lowest level.
        detail: String,
    },
    /// The TDX module (MRSIGNERSEAM, SEAMATTRIBUTES, module SVN) does not match the TCB Info.
    #[error("TDX module identity mismatch: {0}")]
    TdxModule(String),
    /// The collateral has the wrong kind (SGX instead of TDX, another version).
    #[error("{item} is not usable for a TDX quote: {reason}")]
    WrongCollateral {
        /// TCB Info or QE Identity.
        item: Item,
        /// Why.
        reason: String,
    },
    /// The matched TCB level is `Revoked`.
    #[error("the {0} TCB level is Revoked")]
    TcbRevoked(Item),
}

impl VerifyError {
    pub(crate) fn malformed(item: Item, reason: impl fmt::Display) -> VerifyError {
        VerifyError::Malformed {
            item,
            reason: reason.to_string(),
        }
    }

    /// The item this error names, where it names one.
    pub fn item(&self) -> Option<Item> {
        match self {
            VerifyError::Malformed { item, .. }
            | VerifyError::BadSignature { item }
            | VerifyError::OutsideValidity { item, .. }
            | VerifyError::Revoked { item, .. }
            | VerifyError::Chain { item, .. }
            | VerifyError::Role { item, .. }
            | VerifyError::Constraint { item, .. }
            | VerifyError::WrongCollateral { item, .. }
            | VerifyError::TcbRevoked(item) => Some(*item),
            VerifyError::QeBinding(_)
            | VerifyError::QeIdentityMismatch { .. }
            | VerifyError::QeTcbNotMatched { .. } => Some(Item::QeReport),
            // A module mismatch is between the quote's TDX module and the TCB Info's identity.
            VerifyError::PlatformMismatch { .. }
            | VerifyError::NoMatchingTcbLevel { .. }
            | VerifyError::TdxModule(_) => Some(Item::TcbInfo),
            VerifyError::UnsupportedQuote(_) => None,
        }
    }

    /// A short stable name of the failed check, for machine-readable verdicts.
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::UnsupportedQuote(_) => "unsupported_quote",
            VerifyError::Malformed { .. } => "malformed",
            VerifyError::BadSignature { .. } => "signature",
            VerifyError::OutsideValidity { .. } => "validity_period",
            VerifyError::Revoked { .. } => "revocation",
            VerifyError::Chain { .. } => "chain",
            VerifyError::Role { .. } => "certificate_role",
            VerifyError::Constraint { .. } => "certificate_constraint",
            VerifyError::QeBinding(_) => "qe_binding",
            VerifyError::QeIdentityMismatch { .. } | VerifyError::QeTcbNotMatched { .. } => {
                "qe_identity"
            }
            VerifyError::PlatformMismatch { .. } => "platform_mismatch",
            VerifyError::NoMatchingTcbLevel { .. } => "tcb_level",
            VerifyError::TdxModule(_) => "tdx_module",
            VerifyError::WrongCollateral { .. } => "collateral_kind",
            VerifyError::TcbRevoked(_) => "tcb_revoked",
        }
    }
}

/// `Ok` when `now` lies in `[not_before, not_after]`, else the error naming `item` and the bound.
pub(crate) fn check_window(
    item: Item,
    not_before: UnixTime,
    not_after: UnixTime,
    now: UnixTime,
) -> Result<(), VerifyError> {
    if now < not_before {
        return Err(VerifyError::OutsideValidity {
            item,
            bound: TimeBound::NotYetValid,
            at: not_before,
            now,
        });
    }
    if now > not_after {
        return Err(VerifyError::OutsideValidity {
            item,
            bound: TimeBound::Expired,
            at: not_after,
            now,
        });
    }
    Ok(())
}
