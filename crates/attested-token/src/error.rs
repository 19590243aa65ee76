//! The crate's errors: [`Error`] for verification and policy (every variant names what failed,
//! [`CertificateProblem`] what is wrong with one certificate), and [`AppraiserError`] for the
//! appraisers, which says at which step ([`Error`] inside) the evidence was refused.

/// Why a token, document, key set or certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input exceeds its size cap (checked before any parsing).
    #[error("{what} is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Which input (token, JWKS, COSE document, ...).
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The input is not well formed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which part (JWS header, payload, JWKS, CBOR document, ...).
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// `none` or an HMAC algorithm: refused before any key lookup.
    #[error("algorithm {0:?} is forbidden")]
    ForbiddenAlgorithm(String),
    /// An algorithm outside RS256, PS384, ES256, ES384.
    #[error("algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
    /// The JWS header carries `crit` parameters, which this verifier does not understand.
    #[error("critical header parameters {0:?} are not understood")]
    CriticalHeader(Vec<String>),
    /// The JWS header has no `kid`.
    #[error("token header has no kid")]
    MissingKid,
    /// No key with this kid is in the key set.
    #[error("no key with kid {kid:?} in the key set")]
    UnknownKey {
        /// The kid from the token header.
        kid: String,
    },
    /// Keys with this kid exist, but none for this algorithm.
    #[error("key {kid:?} is not a key for alg {alg}")]
    KeyAlgorithmMismatch {
        /// The kid from the token header.
        kid: String,
        /// The alg from the token header.
        alg: &'static str,
    },
    /// The verifier's signature algorithms hold none for this JWS or COSE algorithm (a caller's
    /// set without RSA-PSS meeting a PS384 token, say): nothing was checked.
    #[error("the verifier's signature algorithms hold none for {alg}")]
    AlgorithmNotInSet {
        /// The algorithm's JWS name (`PS384`, `ES384`...; a Nitro document's COSE -35 is ES384).
        alg: &'static str,
    },
    /// A signature does not verify.
    #[error("signature of {what} does not verify")]
    BadSignature {
        /// What was signed (the token, the GPU-0 token, the COSE document, ...).
        what: String,
    },
    /// A key of the key set is not trusted (its x5c chain failed).
    #[error("key {kid:?} is not trusted: {reason}")]
    UntrustedKey {
        /// The key's kid.
        kid: String,
        /// Why its chain failed.
        reason: Box<Error>,
    },
    /// A JWK carries no x5c chain and unchained keys were not opted into.
    #[error("key {kid:?} has no x5c chain (unchained keys need an explicit opt-in)")]
    MissingX5c {
        /// The key's kid.
        kid: String,
    },
    /// The JWK's key differs from the public key of its x5c leaf certificate.
    #[error("key {kid:?} differs from the key of its x5c leaf certificate")]
    LeafKeyMismatch {
        /// The key's kid.
        kid: String,
    },
    /// A certificate of a chain was refused.
    #[error("certificate {index} ({subject}): {problem}")]
    Certificate {
        /// Position in the chain, 0 = leaf.
        index: usize,
        /// Its subject, for the reader.
        subject: String,
        /// What is wrong with it.
        problem: CertificateProblem,
    },
    /// A chain has more certificates than allowed.
    #[error("certificate chain has {len} certificates, over the limit of {max}")]
    ChainTooLong {
        /// Certificates in the chain.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A chain ends at a certificate that is neither a pinned root nor issued by one.
    #[error("certificate chain ends at {subject}, which is not a pinned root nor issued by one")]
    UntrustedRoot {
        /// Subject of the last certificate of the chain.
        subject: String,
    },
    /// A required claim is absent.
    #[error("claim {0} is missing")]
    MissingClaim(&'static str),
    /// The token or document expired (beyond the clock skew).
    #[error("expired at {exp} (now {now}, skew {skew} s)")]
    Expired {
        /// Expiry, seconds since the Unix epoch.
        exp: u64,
        /// The verification time.
        now: u64,
        /// The allowed skew in seconds.
        skew: u64,
    },
    /// The token is not valid yet (`nbf` beyond the clock skew).
    #[error("not valid before {nbf} (now {now}, skew {skew} s)")]
    NotYetValid {
        /// Not-before, seconds since the Unix epoch.
        nbf: u64,
        /// The verification time.
        now: u64,
        /// The allowed skew in seconds.
        skew: u64,
    },
    /// Issued (`iat` or Nitro `timestamp`) in the future beyond the clock skew.
    #[error("issued at {iat}, in the future (now {now}, skew {skew} s)")]
    IssuedInFuture {
        /// Issue time, seconds since the Unix epoch.
        iat: u64,
        /// The verification time.
        now: u64,
        /// The allowed skew in seconds.
        skew: u64,
    },
    /// Older than the maximum age.
    #[error("issued at {iat}, older than the maximum age of {max_age} s (now {now})")]
    TooOld {
        /// Issue time, seconds since the Unix epoch.
        iat: u64,
        /// The verification time.
        now: u64,
        /// The maximum age in seconds.
        max_age: u64,
    },
    /// The issuer is not the expected one.
    #[error("issuer is {found:?}, expected {expected:?}")]
    WrongIssuer {
        /// The expected issuer.
        expected: String,
        /// The token's issuer.
        found: String,
    },
    /// A claim or document field differs from the value the policy expects.
    #[error("{field} is {found}, expected {expected}")]
    Mismatch {
        /// The claim (for example `tdx_mrtd` or `nonce`).
        field: String,
        /// What the policy expects.
        expected: String,
        /// What the token says.
        found: String,
    },
    /// The TCB status is not among the accepted ones.
    #[error("TCB status {0:?} is not accepted")]
    TcbStatusNotAccepted(String),
    /// The evidence says the platform runs in debug mode, which the policy refuses.
    #[error("debug mode: {0}")]
    Debug(&'static str),
    /// An NRAS per-GPU token does not match its digest in the overall token.
    #[error("NRAS {gpu}: SHA-256 of its token does not match the overall token's digest")]
    DigestMismatch {
        /// The GPU entry (`GPU-0`, ...).
        gpu: String,
    },
    /// A GPU name appears twice in the NRAS bundle's token map or in the overall token's
    /// submods (a JSON map would silently keep the last).
    #[error("NRAS bundle: GPU {gpu} appears twice")]
    DuplicateGpu {
        /// The repeated name.
        gpu: String,
    },
    /// The NRAS bundle's GPU tokens and the overall token's submods differ.
    #[error("NRAS bundle: {detail}")]
    GpuSet {
        /// What differs.
        detail: String,
    },
    /// An attestation result claim says the attestation failed.
    #[error("attestation result {claim} is false")]
    ResultFalse {
        /// The claim that is false.
        claim: String,
    },
    /// Path validation (webpki) refused the chain that starts at this leaf.
    #[error("certificate chain of {subject}: {problem}")]
    Chain {
        /// The leaf's subject.
        subject: String,
        /// What failed.
        problem: CertificateProblem,
    },
    /// A CRL the chain was checked against is past its nextUpdate.
    #[error("CRL of {issuer} expired at {next_update} (now {now})")]
    CrlExpired {
        /// The CRL issuer's name.
        issuer: String,
        /// nextUpdate, seconds since the Unix epoch.
        next_update: u64,
        /// The verification time.
        now: u64,
    },
    /// The cached key set is past its TTL plus the maximum staleness (refreshing failed).
    #[error("key set fetched at {fetched_at} is stale since {stale_after} (now {now})")]
    StaleKeys {
        /// When the keys were fetched, seconds since the Unix epoch.
        fetched_at: u64,
        /// When they stopped being served.
        stale_after: u64,
        /// The verification time.
        now: u64,
    },
    /// The ITA, MAA or Nitro policy identifies no workload and does not say it accepts any
    /// (`ita::ItaPolicy::any_workload`, `maa::MaaPolicy::any_workload`,
    /// `nitro::NitroPolicy::any_workload`); the text says what is missing.
    #[error("the policy identifies no workload: {0}")]
    NoWorkload(&'static str),
    /// Fetching a key set failed (only with a fetcher).
    #[error("fetching the key set failed: {0}")]
    Fetch(String),
}

/// What is wrong with one certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Not DER X.509.
    #[error("not a DER X.509 certificate: {0}")]
    Malformed(String),
    /// Past its notAfter.
    #[error("expired at {not_after} (now {now})")]
    Expired {
        /// notAfter, seconds since the Unix epoch.
        not_after: u64,
        /// The verification time.
        now: u64,
    },
    /// Before its notBefore.
    #[error("not valid before {not_before} (now {now})")]
    NotYetValid {
        /// notBefore, seconds since the Unix epoch.
        not_before: u64,
        /// The verification time.
        now: u64,
    },
    /// Its issuer name is not the next certificate's subject.
    #[error("issuer name differs from the next certificate's subject")]
    IssuerMismatch,
    /// Its signature does not verify with the issuer's key.
    #[error("signature does not verify with the issuer's key")]
    BadSignature,
    /// The issuing certificate is not a CA.
    #[error("its issuer is not a CA certificate")]
    IssuerNotCa,
    /// A signature algorithm or key type this crate does not verify.
    #[error("unsupported {0}")]
    Unsupported(&'static str),
    /// A CA's pathLenConstraint is exceeded.
    #[error("a pathLenConstraint is exceeded")]
    PathLenExceeded,
    /// A critical extension the validator does not understand.
    #[error("an unknown critical extension")]
    UnknownCriticalExtension,
    /// The KeyUsage extension does not allow this use (`keyCertSign` for a CA, `digitalSignature`
    /// for the signer).
    #[error("KeyUsage does not allow {0}")]
    KeyUsage(&'static str),
    /// A CRL of its issuer lists it.
    #[error("revoked")]
    Revoked,
    /// CRLs were given, but none of its issuer covers it.
    #[error("no CRL of its issuer covers it")]
    RevocationUnknown,
    /// No moment exists at which every certificate of the chain is valid.
    #[error("the certificates' validity windows do not overlap")]
    NoCommonValidity,
    /// Another path validation refusal, as webpki names it.
    #[error("{0}")]
    Path(String),
}

/// Why an appraiser (`ita::ItaAppraiser`, `maa::MaaAppraiser`, `nitro::NitroAppraiser`, and
/// the companion `nras::NrasAppraiser`) refused evidence. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppraiserError {
    /// The evidence carries no token (ITA, MAA) or no document (Nitro).
    #[error("the evidence carries no {0}")]
    Missing(&'static str),
    /// The evidence is of a kind this appraiser does not judge.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Verification (signature, key, chain, issuer, times) failed.
    #[error("verification failed: {0}")]
    Verify(Error),
    /// The verified claims do not meet the policy.
    #[error("policy refused the verified claims: {0}")]
    Policy(Error),
    /// The verified claims describe no TD (ITA) or bind no 64-byte value (MAA report data,
    /// Nitro `public_key`), or the caller's NRAS nonce is empty.
    #[error("{0}")]
    NoBinding(&'static str),
}

pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Error {
    Error::Malformed {
        what,
        detail: detail.to_string(),
    }
}

/// The one rule of the TDX-token policies (ITA, MAA) for what identifies a workload: MRTD with
/// at least one RTMR. `Err` ([`Error::NoWorkload`]) names what is missing.
pub(crate) fn tdx_workload_identified(mrtd_pinned: bool, rtmr_pinned: bool) -> Result<(), Error> {
    if mrtd_pinned && rtmr_pinned {
        return Ok(());
    }
    Err(Error::NoWorkload(if mrtd_pinned {
        "MRTD is pinned without an RTMR (MRTD alone is the platform's firmware, shared by \
         every tenant): pin an RTMR"
    } else {
        "nothing that identifies it is pinned: pin MRTD and an RTMR"
    }))
}

/// What an accepted value records about the workload, the one rule of the ITA, MAA and Nitro
/// policies: the `pinned` measurements when they identify it, [`Workload::Any`] when they do
/// not and the policy opted out, and `identified`'s [`Error::NoWorkload`] otherwise.
///
/// [`Workload::Any`]: attested_types::Workload::Any
pub(crate) fn accepted_workload(
    identified: Result<(), Error>,
    any_workload: bool,
    pinned: impl FnOnce() -> Vec<String>,
) -> Result<attested_types::Workload, Error> {
    match identified {
        Ok(()) => Ok(attested_types::Workload::Pinned(pinned())),
        Err(_) if any_workload => Ok(attested_types::Workload::Any),
        Err(missing) => Err(missing),
    }
}
