//! DCAP verification of TDX quotes against Intel's collateral.
//!
//! The work splits in two. What depends only on the collateral (root CA CRL, PCK CRL and its
//! issuer, TCB Info and QE Identity with their signing chains) is verified once per collateral
//! and kept in a cache, keyed by the collateral's bytes and valid for exactly the time range in
//! which every item of it is valid. What depends on the quote (PCK leaf, QE report, quote
//! signature, TCB matching) is verified every time. A cache hit is only taken at a `now`
//! where cold verification of the collateral would succeed, so results never differ from cold.

pub(crate) mod anchor;

use std::sync::{Arc, Mutex};

use crate::collateral_data::Collateral;
use crate::crypto::{Backend, EcdsaSig, MissingP256Sha256, Signatures, sha256};
use crate::errors::ParseError;
use crate::parse::{Quote, TdReport};
use crate::pck::PckExtension;
use crate::tcb::{Assessed, QeIdentity, QeReportFields, TcbInfo, TcbStatus, converge};
use crate::time::UnixTime;
use crate::x509::{
    Cert, Crl, EndEntityPath, pem_chain, verify_end_entity, webpki_anchor, webpki_crl,
};
use attested_types::signature::Algorithms;
use x509_cert::ext::pkix::KeyUsages;

use crate::errors::{Item, VerifyError, check_window};
pub use anchor::TrustAnchor;

/// Collateral verifications kept by one verifier (a handful of platforms at most in practice).
const CACHE_ENTRIES: usize = 16;

/// Platforms (PCK leaf + QE report) whose pure checks one verifier remembers: a gateway's
/// fleet. An entry holds about 5 KiB of key bytes plus the decoded leaf; the oldest goes first.
const PLATFORM_ENTRIES: usize = 64;

/// Subject CN phrases of each role in Intel's PKI. QVL: `X509Constants.cpp:128-129` (PCK leaf,
/// TCB signer) and `PckCrlVerifier.cpp:159-165` (the PCK CRL issuer is the Platform or the
/// Processor CA; QVL compares the whole subject with Intel's, which a simulated or private
/// PKI does not share, so the distinguishing part of the CN is compared here).
const PCK_LEAF_ROLE: &[&str] = &["SGX PCK Certificate"];
const PCK_CA_ROLE: &[&str] = &["SGX PCK Platform CA", "SGX PCK Processor CA"];
const TCB_SIGNER_ROLE: &[&str] = &["SGX TCB Signing"];

/// Verifies TDX quotes against a pinned root, with a cache of verified collateral.
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use attested_tdx::sim::{QuoteFormat, SimPlatform};
/// use attested_tdx::{Collateral, Policy, Quote, TcbStatus, TrustAnchor, UnixTime, Verifier};
///
/// // A simulated platform stands in for real hardware and Intel PCS here; in production the
/// // anchor is `TrustAnchor::intel_sgx_root()` and the collateral comes from PCS or a PCCS.
/// let now = UnixTime(1_750_000_000);
/// let platform = SimPlatform::from_seed(b"doc", now.as_secs()).unwrap();
/// let bytes = platform.quote(&platform.quote_spec(QuoteFormat::V4)).unwrap();
/// let collateral = Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
///
/// let verifier = Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap());
/// let quote = Quote::parse(&bytes).unwrap();
/// let verified = verifier.verify(&quote, &collateral, now).unwrap();
/// assert_eq!(verified.tcb_status(), TcbStatus::UpToDate);
/// Policy::any_workload().appraise(&verified, now).unwrap(); // pin the workload in production
///
/// // The same quote against Intel's root: refused, naming the failed check.
/// let err = Verifier::new(TrustAnchor::intel_sgx_root()).verify(&quote, &collateral, now).unwrap_err();
/// println!("{err}");
/// # }
/// ```
#[derive(Debug)]
pub struct Verifier {
    anchor: TrustAnchor,
    signatures: Signatures,
    cache: Mutex<Vec<Arc<VerifiedCollateral>>>,
    platforms: Mutex<Vec<Arc<SeenPlatform>>>,
    platform_entries: usize,
}

/// A platform seen before: the exact bytes its pure checks covered, and what they produced.
///
/// Everything here is a function of these bytes and the PCK CA's certificate alone (chain
/// structure, leaf parsing and role, the leaf's signature by the CA, its SGX extension, the QE
/// report signature by the leaf, the QE binding of the attestation key). Validity at `now` and
/// revocation by the collateral's PCK CRL are not, and are checked on every use.
#[derive(Debug)]
struct SeenPlatform {
    pck_chain_pem: Vec<u8>,
    qe_report: [u8; crate::parse::ENCLAVE_REPORT_LEN],
    qe_report_signature: [u8; 64],
    attestation_key: [u8; 64],
    qe_auth_data: Vec<u8>,
    /// The DER of the PCK CA in the chain (the one the leaf's signature was checked under).
    ca_der: Vec<u8>,
    leaf: Cert,
    /// The chain's CA when it is not the collateral's (such platforms are never remembered:
    /// the CA's own validity and revocation would need checking too).
    own_ca: Option<Cert>,
    pck: PckExtension,
}

impl SeenPlatform {
    fn is(&self, quote: &Quote<'_>) -> bool {
        &self.qe_report == quote.signature().qe_report().as_bytes()
            && &self.qe_report_signature == quote.signature().qe_report_signature()
            && &self.attestation_key == quote.signature().attestation_key()
            && self.qe_auth_data == quote.signature().qe_auth_data()
            && Some(self.pck_chain_pem.as_slice())
                == quote
                    .signature()
                    .certification()
                    .pck_cert_chain()
                    .map(|chain| chain.pem())
    }
}

/// What the collateral alone establishes, once verified.
#[derive(Debug)]
struct VerifiedCollateral {
    digest: [u8; 32],
    root_crl: Crl,
    pck_ca: Cert,
    /// The PCK CA as webpki's trust anchor for the PCK leaves it issued.
    pck_ca_anchor: rustls_pki_types::TrustAnchor<'static>,
    pck_crl: Crl,
    tcb_info: TcbInfo,
    qe_identity: QeIdentity,
    valid_from: UnixTime,
    valid_until: UnixTime,
}

/// A quote whose signatures, certificates and TCB verified against collateral.
#[derive(Debug, Clone)]
pub struct VerifiedQuote<'a> {
    quote: Quote<'a>,
    verdict: Verdict,
}

impl<'a> VerifiedQuote<'a> {
    /// The verified quote.
    pub fn quote(&self) -> &Quote<'a> {
        &self.quote
    }

    /// The TD report of the quote (MRTD, RTMRs, REPORTDATA, attributes...).
    pub fn report(&self) -> &TdReport<'a> {
        self.quote.report()
    }

    /// What verification established about the platform.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The converged TCB status.
    pub fn tcb_status(&self) -> TcbStatus {
        self.verdict.tcb_status
    }

    /// The advisories that apply to the platform, QE and TDX module.
    pub fn advisory_ids(&self) -> &[String] {
        &self.verdict.advisory_ids
    }

    /// The platform's FMSPC.
    pub fn fmspc(&self) -> &[u8; 6] {
        &self.verdict.fmspc
    }

    /// The TCB evaluation data number of the TCB Info used.
    pub fn tcb_evaluation_data_number(&self) -> u32 {
        self.verdict.tcb_evaluation_data_number
    }

    /// The earliest expiry of everything verification used.
    pub fn earliest_expiry(&self) -> UnixTime {
        self.verdict.earliest_expiry
    }
}

/// A closed time range `[from, until]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// The first second of validity.
    pub from: UnixTime,
    /// The last second of validity.
    pub until: UnixTime,
}

/// What verification establishes about a quote's platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The TCB status: platform, TDX module and QE converged (and, for TD 1.5, the current TCB).
    pub tcb_status: TcbStatus,
    /// Intel security advisories that apply.
    pub advisory_ids: Vec<String>,
    /// The platform's FMSPC.
    pub fmspc: [u8; 6],
    /// The platform's PCE-ID.
    pub pce_id: [u8; 2],
    /// The TCB evaluation data number of the TCB Info.
    pub tcb_evaluation_data_number: u32,
    /// The TCB evaluation data number of the QE Identity.
    pub qe_evaluation_data_number: u32,
    /// The date of the matched TCB level: the oldest `tcbDate` of the matched platform, TDX
    /// module and QE levels (what an OutOfDate grace period counts from).
    pub tcb_date: UnixTime,
    /// The latest start of validity of everything used: verification fails before it.
    pub valid_from: UnixTime,
    /// The earliest expiry of everything used (certificates, CRLs, TCB Info, QE Identity).
    pub earliest_expiry: UnixTime,
    /// The SGX extension of the PCK leaf certificate.
    pub pck: PckExtension,
}

impl Verifier {
    /// A verifier trusting `anchor`, with the default signature backend.
    pub fn new(anchor: TrustAnchor) -> Verifier {
        Verifier::with_backend(anchor, Backend::default())
    }

    /// A verifier with a chosen signature backend.
    pub fn with_backend(anchor: TrustAnchor, backend: Backend) -> Verifier {
        Verifier::with_signatures(anchor, crate::crypto::signatures(backend))
    }

    /// A verifier checking every signature with the caller's `algorithms` (an HSM, a FIPS
    /// module, or any other implementation of the vocabulary's
    /// [`SignatureVerificationAlgorithm`](attested_types::signature::SignatureVerificationAlgorithm)).
    /// webpki validates the TCB signing chain and the PCK leaf with the whole set; the other
    /// signatures (PCK CA and CRLs, TCB Info, QE Identity, QE report, quote) go through its
    /// ECDSA P-256 / SHA-256 entry, which must be there.
    ///
    /// ```
    /// use attested_tdx::{Backend, TrustAnchor, Verifier};
    ///
    /// let algorithms = Backend::default().algorithms(); // or the caller's own set
    /// let verifier = Verifier::with_algorithms(TrustAnchor::intel_sgx_root(), algorithms)?;
    /// assert!(Verifier::with_algorithms(TrustAnchor::intel_sgx_root(), &[]).is_err());
    /// # Ok::<(), attested_tdx::verify::MissingP256Sha256>(())
    /// ```
    pub fn with_algorithms(
        anchor: TrustAnchor,
        algorithms: Algorithms,
    ) -> Result<Verifier, MissingP256Sha256> {
        Ok(Verifier::with_signatures(
            anchor,
            Signatures::new(algorithms)?,
        ))
    }

    fn with_signatures(anchor: TrustAnchor, signatures: Signatures) -> Verifier {
        Verifier {
            anchor,
            signatures,
            cache: Mutex::new(Vec::new()),
            platforms: Mutex::new(Vec::new()),
            platform_entries: PLATFORM_ENTRIES,
        }
    }

    /// Remember at most `entries` platforms (default 64; 0 turns the hot path off). A seen
    /// platform costs about 6 KiB; its quotes then cost one P-256 verification plus parsing.
    pub fn with_platform_cache(mut self, entries: usize) -> Verifier {
        self.platform_entries = entries;
        self
    }

    /// The trust anchor.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// Verifies `collateral` alone at `now` (signatures, chains, CRLs, dates), filling the
    /// cache, and returns the time range in which all of it is valid.
    pub fn verify_collateral(
        &self,
        collateral: &Collateral,
        now: UnixTime,
    ) -> Result<Validity, VerifyError> {
        self.collateral(collateral, now).map(|v| Validity {
            from: v.valid_from,
            until: v.valid_until,
        })
    }

    /// Drops every cached collateral verification and every platform seen.
    pub fn clear_cache(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        if let Ok(mut platforms) = self.platforms.lock() {
            platforms.clear();
        }
    }

    /// The platform of `quote` if its pure checks passed before under the same PCK CA.
    fn seen_platform(
        &self,
        quote: &Quote<'_>,
        verified: &VerifiedCollateral,
    ) -> Option<Arc<SeenPlatform>> {
        let platforms = self.platforms.lock().ok()?;
        platforms
            .iter()
            .find(|seen| seen.is(quote) && seen.ca_der == verified.pck_ca.der)
            .map(Arc::clone)
    }

    fn remember_platform(&self, seen: &Arc<SeenPlatform>) {
        if seen.own_ca.is_some() || self.platform_entries == 0 {
            return;
        }
        if let Ok(mut platforms) = self.platforms.lock() {
            while platforms.len() >= self.platform_entries {
                platforms.remove(0);
            }
            platforms.push(Arc::clone(seen));
        }
    }

    fn collateral(
        &self,
        collateral: &Collateral,
        now: UnixTime,
    ) -> Result<Arc<VerifiedCollateral>, VerifyError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(hit) = cache.iter().find(|entry| {
                entry.digest == collateral.digest
                    && entry.valid_from <= now
                    && now <= entry.valid_until
            })
        {
            return Ok(Arc::clone(hit));
        }
        let verified = Arc::new(verify_collateral(
            self.anchor.cert()?,
            collateral,
            self.signatures,
            now,
        )?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|entry| entry.digest != verified.digest);
            if cache.len() >= CACHE_ENTRIES {
                cache.remove(0);
            }
            cache.push(Arc::clone(&verified));
        }
        Ok(verified)
    }

    /// Verifies `quote` against `collateral` at `now`: every DCAP check, in full.
    ///
    /// The collateral part is taken from the cache when this verifier has verified the same
    /// collateral before and `now` lies inside its validity; the result is the same either way.
    pub fn verify<'a>(
        &self,
        quote: &Quote<'a>,
        collateral: &Collateral,
        now: UnixTime,
    ) -> Result<VerifiedQuote<'a>, VerifyError> {
        let verdict = self.verify_quote(quote, collateral, now)?;
        Ok(VerifiedQuote {
            quote: quote.clone(),
            verdict,
        })
    }

    /// Parses `bytes` as a quote and verifies it (see [`Verifier::verify`]).
    pub fn verify_bytes<'a>(
        &self,
        bytes: &'a [u8],
        collateral: &Collateral,
        now: UnixTime,
    ) -> Result<VerifiedQuote<'a>, VerifyError> {
        let quote = Quote::parse(bytes).map_err(|e| match e {
            ParseError::NotTdx { tee_type } => {
                VerifyError::UnsupportedQuote(format!("TEE type {tee_type:#x} is not TDX (0x81)"))
            }
            other => VerifyError::malformed(Item::Quote, other),
        })?;
        self.verify(&quote, collateral, now)
    }

    fn verify_quote(
        &self,
        quote: &Quote<'_>,
        collateral: &Collateral,
        now: UnixTime,
    ) -> Result<Verdict, VerifyError> {
        check_header(quote)?;
        let anchor = self.anchor.cert()?;
        let ecdsa = &self.signatures;
        let verified = self.collateral(collateral, now)?;

        // The PCK leaf and the QE report: pure functions of bytes that one platform repeats in
        // every quote, memoized by those exact bytes. Only what depends on `now` and on the
        // collateral's CRLs is checked again on a hit, in the order cold verification checks it.
        let seen = match self.seen_platform(quote, &verified) {
            Some(seen) => {
                seen.leaf.check_validity(Item::PckLeaf, now)?;
                verified
                    .pck_crl
                    .check_not_revoked(Item::PckCrl, &seen.leaf, Item::PckLeaf)?;
                seen
            }
            None => {
                let seen = Arc::new(verify_platform(
                    quote,
                    &verified,
                    anchor,
                    self.signatures,
                    now,
                )?);
                self.remember_platform(&seen);
                seen
            }
        };
        let leaf = &seen.leaf;
        let ca = seen.own_ca.as_ref().unwrap_or(&verified.pck_ca);
        let pck = seen.pck.clone();
        let qe_level = verified.qe_identity.assess(&qe_report_fields(quote))?;

        // Quote body: signed by the attestation key.
        let mut key = [0x04; 65];
        if let Some(xy) = key.get_mut(1..) {
            xy.copy_from_slice(quote.signature().attestation_key());
        }
        if !ecdsa.verify(
            &key,
            quote.signed_bytes(),
            EcdsaSig::Fixed(quote.signature().quote_signature()),
        ) {
            return Err(VerifyError::BadSignature {
                item: Item::QuoteBody,
            });
        }

        // Platform TCB.
        let tcb_info = &verified.tcb_info;
        if pck.fmspc != tcb_info.fmspc {
            return Err(VerifyError::PlatformMismatch {
                field: "FMSPC",
                pck: hex::encode(pck.fmspc),
                tcb_info: hex::encode(tcb_info.fmspc),
            });
        }
        if pck.pce_id != tcb_info.pce_id {
            return Err(VerifyError::PlatformMismatch {
                field: "PCE-ID",
                pck: hex::encode(pck.pce_id),
                tcb_info: hex::encode(tcb_info.pce_id),
            });
        }
        tcb_info.check_module(
            quote.report().td10().tee_tcb_svn(),
            quote.report().td10().mr_signer_seam(),
            quote.report().td10().seam_attributes(),
        )?;
        // QVL's `checkTcbLevel` (`TcbLevelCheck.cpp:222-258`): the TDX level converged with
        // the module; Revoked stops here; a TD 1.5 report (`TcbLevelCheck.cpp:247`) may turn
        // OutOfDate into TDRelaunchAdvised; then the QE.
        let platform = tcb_info.assess(
            &pck.sgx_tcb_components,
            pck.pce_svn,
            quote.report().td10().tee_tcb_svn(),
        )?;
        if platform.assessed.status == TcbStatus::Revoked {
            return Err(VerifyError::TcbRevoked(Item::TcbInfo));
        }
        let tdx_status = match quote.report().tee_tcb_svn2() {
            Some(svn2) => tcb_info.check_for_relaunch(svn2, &platform, qe_level.status)?,
            None => platform.assessed.status,
        };
        let mut launch = platform.assessed;
        launch.status = tdx_status;
        let assessed: Assessed = converge(launch, &qe_level);
        if assessed.status == TcbStatus::Revoked {
            // Only the QE level can make it Revoked here.
            return Err(VerifyError::TcbRevoked(Item::QeIdentity));
        }

        Ok(Verdict {
            tcb_status: assessed.status,
            advisory_ids: assessed.advisory_ids,
            fmspc: pck.fmspc,
            pce_id: pck.pce_id,
            tcb_evaluation_data_number: tcb_info.evaluation_data_number,
            qe_evaluation_data_number: verified.qe_identity.evaluation_data_number,
            tcb_date: assessed.tcb_date,
            valid_from: verified.valid_from.max(leaf.not_before).max(ca.not_before),
            earliest_expiry: verified.valid_until.min(leaf.not_after).min(ca.not_after),
            pck,
        })
    }
}

/// The cold check of a quote's platform: PCK chain to the anchor (through the collateral's PCK
/// CA, or the quote's own encoding of it verified in full), the leaf's role, validity and
/// revocation, its SGX extension, and the QE report's signature by the leaf and its binding of
/// the attestation key.
fn verify_platform(
    quote: &Quote<'_>,
    verified: &VerifiedCollateral,
    anchor: &Cert,
    signatures: Signatures,
    now: UnixTime,
) -> Result<SeenPlatform, VerifyError> {
    let ecdsa = &signatures;
    // PCK chain of the quote: leaf, its CA, and optionally the root.
    let pem = quote
        .signature()
        .certification()
        .pck_cert_chain()
        .map(|chain| chain.pem())
        .ok_or_else(|| {
            VerifyError::UnsupportedQuote(
                "certification data is not a PEM PCK chain (type 5)".into(),
            )
        })?;
    let mut ders = pem_chain(pem, Item::PckLeaf, &[anchor, &verified.pck_ca])?.into_iter();
    let leaf = ders
        .next()
        .ok_or_else(|| VerifyError::malformed(Item::PckLeaf, "empty PCK chain"))?;
    let ca = ders.next().ok_or_else(|| {
        VerifyError::malformed(Item::PckCa, "the PCK chain has no CA certificate")
    })?;
    if let Some(root) = ders.next()
        && root != anchor.der
    {
        return Err(VerifyError::Chain {
            item: Item::PckChainRoot,
            issuer: Item::RootCa,
            reason: "the PCK chain ends at another root than the trust anchor",
        });
    }
    if ders.next().is_some() {
        return Err(VerifyError::malformed(
            Item::PckLeaf,
            "the PCK chain has more than three certificates",
        ));
    }
    let ca_der = ca;
    let own_ca = if ca_der == verified.pck_ca.der {
        None
    } else {
        // Another encoding of the CA than the CRL issuer chain's: verify it in full, and
        // require it to be the PCK CRL's issuer, or the CRL would not cover the leaf.
        let quote_ca = Cert::from_der(ca_der.clone(), Item::PckCa)?;
        verify_pck_ca(
            &quote_ca,
            Item::PckCa,
            anchor,
            &verified.root_crl,
            ecdsa,
            now,
        )?;
        if quote_ca.subject() != &verified.pck_crl.issuer
            || quote_ca.public_key != verified.pck_ca.public_key
        {
            return Err(VerifyError::Chain {
                item: Item::PckCrl,
                issuer: Item::PckCa,
                reason: "the PCK CRL is issued by another CA than the PCK leaf's",
            });
        }
        Some(quote_ca)
    };
    let own_anchor;
    let ca_anchor = match &own_ca {
        Some(ca) => {
            own_anchor = webpki_anchor(ca, Item::PckCa)?;
            &own_anchor
        }
        None => &verified.pck_ca_anchor,
    };
    let leaf = Cert::from_der(leaf, Item::PckLeaf)?;
    // QVL `QuoteVerifier.cpp:65`, `PckCertVerifier.cpp:92`.
    leaf.check_role(Item::PckLeaf, PCK_LEAF_ROLE, "PCK leaf")?;
    leaf.check_validity(Item::PckLeaf, now)?;
    // webpki, under the PCK CA verified above as its anchor. The PCK CRL's signature was
    // verified once with the collateral; handing it to webpki would verify it again on every
    // cold quote (a tenth signature), so the leaf's serial is looked up in it here.
    verify_end_entity(
        &EndEntityPath {
            cert: &leaf,
            item: Item::PckLeaf,
            issuer: ca_anchor,
            issuer_item: Item::PckCa,
            crl: None,
        },
        signatures.x509,
        now,
    )?;
    verified
        .pck_crl
        .check_not_revoked(Item::PckCrl, &leaf, Item::PckLeaf)?;
    let pck = PckExtension::from_cert(&leaf)?;

    // QE report: signed by the PCK key, binding the attestation key, matching QE Identity.
    if !ecdsa.verify(
        &leaf.public_key,
        quote.signature().qe_report().as_bytes(),
        EcdsaSig::Fixed(quote.signature().qe_report_signature()),
    ) {
        return Err(VerifyError::BadSignature {
            item: Item::QeReport,
        });
    }
    let binding = sha256(&[
        quote.signature().attestation_key(),
        quote.signature().qe_auth_data(),
    ]);
    let (bound, padding) = quote.signature().qe_report().report_data().split_at(32);
    if bound != binding {
        return Err(VerifyError::QeBinding(
            "REPORTDATA[0..32] is not SHA-256(attestation key || QE auth data)",
        ));
    }
    if padding.iter().any(|b| *b != 0) {
        return Err(VerifyError::QeBinding("REPORTDATA[32..64] is not zero"));
    }
    Ok(SeenPlatform {
        pck_chain_pem: pem.to_vec(),
        qe_report: *quote.signature().qe_report().as_bytes(),
        qe_report_signature: *quote.signature().qe_report_signature(),
        attestation_key: *quote.signature().attestation_key(),
        qe_auth_data: quote.signature().qe_auth_data().to_vec(),
        ca_der,
        leaf,
        own_ca,
        pck,
    })
}

/// The QE report fields QE Identity is matched against, read from the quote's own view.
fn qe_report_fields<'a>(quote: &Quote<'a>) -> QeReportFields<'a> {
    let qe_report = quote.signature().qe_report();
    QeReportFields {
        misc_select: qe_report.misc_select(),
        attributes: qe_report.attributes(),
        mr_signer: qe_report.mr_signer(),
        isv_prod_id: qe_report.isv_prod_id(),
        isv_svn: qe_report.isv_svn(),
    }
}

/// The one header check `Quote::parse` leaves to verification: TEE type, version and
/// attestation key type are what parsing guarantees; the QE vendor is not (a parser reads any
/// vendor's quote).
fn check_header(quote: &Quote<'_>) -> Result<(), VerifyError> {
    if !quote.header().is_intel_qe() {
        return Err(VerifyError::UnsupportedQuote(format!(
            "QE vendor {} is not Intel",
            hex::encode(quote.header().qe_vendor_id())
        )));
    }
    Ok(())
}

/// Verifies the PCK CA, issued directly by the root, with this crate's own code (webpki
/// cannot validate a CA as the target of a path): the root's pathLenConstraint allows it and
/// the root may sign certificates and CRLs; the CA's signature by the root, validity, absence
/// from the root CA CRL (whose signature the caller verified), basicConstraints cA, KeyUsage
/// `keyCertSign` and `cRLSign`, and no unknown critical extension.
fn verify_pck_ca(
    cert: &Cert,
    item: Item,
    anchor: &Cert,
    root_crl: &Crl,
    ecdsa: &Signatures,
    now: UnixTime,
) -> Result<(), VerifyError> {
    anchor.check_path_len(Item::RootCa, 1)?;
    cert.check_issued_by(item, &anchor.as_issuer(Item::RootCa), ecdsa)?;
    cert.check_validity(item, now)?;
    root_crl.check_not_revoked(Item::RootCaCrl, cert, item)?;
    if !cert.is_ca() {
        return Err(VerifyError::Constraint {
            item,
            constraint: "its role: it is not a CA (basicConstraints) but issues the PCK leaf",
        });
    }
    cert.check_ca_constraints(item)
}

/// The first certificate of an issuer chain (the signer or the PCK CA), decoded and its role
/// checked; the rest of the chain may only repeat the trust anchor.
fn chain_head(
    chain: &[u8],
    item: Item,
    role: (&[&str], &'static str),
    anchor: &Cert,
) -> Result<Cert, VerifyError> {
    let mut ders = pem_chain(chain, item, &[anchor])?.into_iter();
    let head = ders
        .next()
        .ok_or_else(|| VerifyError::malformed(item, "empty issuer chain"))?;
    for extra in ders {
        if extra != anchor.der {
            return Err(VerifyError::Chain {
                item,
                issuer: Item::RootCa,
                reason: "the issuer chain holds a certificate other than the signer and the trust anchor",
            });
        }
    }
    let head = Cert::from_der(head, item)?;
    head.check_role(item, role.0, role.1)?;
    Ok(head)
}

/// The signing certificate of a TCB Info or QE Identity issuer chain, validated by webpki
/// under the root with the root CA CRL (which webpki verifies: on `Ok`, the root CA CRL's
/// signature by the root verified), then KeyUsage `digitalSignature`.
fn verify_signer(
    chain: &[u8],
    item: Item,
    anchor: &Cert,
    root: &rustls_pki_types::TrustAnchor<'_>,
    root_crl: &webpki::CertRevocationList<'_>,
    algorithms: Algorithms,
    now: UnixTime,
) -> Result<Cert, VerifyError> {
    let signer = chain_head(chain, item, (TCB_SIGNER_ROLE, "TCB signing"), anchor)?;
    signer.check_validity(item, now)?;
    verify_end_entity(
        &EndEntityPath {
            cert: &signer,
            item,
            issuer: root,
            issuer_item: Item::RootCa,
            crl: Some((root_crl, Item::RootCaCrl)),
        },
        algorithms,
        now,
    )?;
    Ok(signer)
}

fn verify_collateral(
    anchor: &Cert,
    collateral: &Collateral,
    signatures: Signatures,
    now: UnixTime,
) -> Result<VerifiedCollateral, VerifyError> {
    let ecdsa = &signatures;
    let algorithms = signatures.x509;
    anchor.check_validity(Item::RootCa, now)?;
    let root = webpki_anchor(anchor, Item::RootCa)?;
    let mut window = Window::new(anchor.not_before, anchor.not_after);

    // The root CA CRL: decoded here (its serials serve the PCK CA and the anchor), its
    // signature verified by webpki on the TCB signing path just below.
    let root_crl = Crl::from_der(&collateral.root_ca_crl, Item::RootCaCrl)?;
    root_crl.check_unsigned_parts(Item::RootCaCrl, &anchor.as_issuer(Item::RootCa), now)?;
    let root_crl_webpki = webpki_crl(&collateral.root_ca_crl, Item::RootCaCrl)?;
    window.narrow(root_crl.this_update, root_crl.next_update);

    let tcb_signer = verify_signer(
        &collateral.tcb_info_issuer_chain,
        Item::TcbInfoSigner,
        anchor,
        &root,
        &root_crl_webpki,
        algorithms,
        now,
    )?;
    window.narrow(tcb_signer.not_before, tcb_signer.not_after);
    // From here the root CA CRL is verified. The anchor itself may be listed (dcap-qvl 0.7.1
    // `verify.rs:1308-1310` checks it with `check_single_cert_revocation`): a revoked root
    // trusts nothing.
    root_crl.check_not_revoked(Item::RootCaCrl, anchor, Item::RootCa)?;
    // webpki keeps only the anchor's name and key (and checks cRLSign only on intermediate
    // issuers): the anchor's KeyUsage is checked here, before it is relied on for the CRL
    // (whose signature by the anchor's key verified above) and the PCK CA.
    anchor.check_key_usage(
        Item::RootCa,
        KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        "its KeyUsage (a CA needs keyCertSign and cRLSign)",
    )?;

    let pck_ca = chain_head(
        &collateral.pck_crl_issuer_chain,
        Item::PckCrlIssuer,
        (PCK_CA_ROLE, "PCK Platform or Processor CA"),
        anchor,
    )?;
    verify_pck_ca(&pck_ca, Item::PckCrlIssuer, anchor, &root_crl, ecdsa, now)?;
    window.narrow(pck_ca.not_before, pck_ca.not_after);
    let pck_ca_anchor = webpki_anchor(&pck_ca, Item::PckCrlIssuer)?;
    let pck_crl = Crl::from_der(&collateral.pck_crl, Item::PckCrl)?;
    pck_crl.check(
        Item::PckCrl,
        &pck_ca.as_issuer(Item::PckCrlIssuer),
        ecdsa,
        now,
    )?;
    window.narrow(pck_crl.this_update, pck_crl.next_update);

    let tcb_info = SignedItem {
        item: Item::TcbInfo,
        body: &collateral.tcb_info,
        signature: &collateral.tcb_info_signature,
    }
    .verify(&tcb_signer, ecdsa, TcbInfo::parse, now)?;
    window.narrow(tcb_info.issue_date, tcb_info.next_update);

    // Intel signs both with one certificate: its chain is verified once.
    let qe_signer_storage;
    let qe_signer = if collateral.qe_identity_issuer_chain == collateral.tcb_info_issuer_chain {
        &tcb_signer
    } else {
        qe_signer_storage = verify_signer(
            &collateral.qe_identity_issuer_chain,
            Item::QeIdentitySigner,
            anchor,
            &root,
            &root_crl_webpki,
            algorithms,
            now,
        )?;
        window.narrow(qe_signer_storage.not_before, qe_signer_storage.not_after);
        &qe_signer_storage
    };
    let qe_identity = SignedItem {
        item: Item::QeIdentity,
        body: &collateral.qe_identity,
        signature: &collateral.qe_identity_signature,
    }
    .verify(qe_signer, ecdsa, QeIdentity::parse, now)?;
    window.narrow(qe_identity.issue_date, qe_identity.next_update);

    Ok(VerifiedCollateral {
        digest: collateral.digest,
        root_crl,
        pck_ca,
        pck_ca_anchor,
        pck_crl,
        tcb_info,
        qe_identity,
        valid_from: window.from,
        valid_until: window.until,
    })
}

/// A JSON collateral item Intel signs with the TCB signing key (TCB Info, QE Identity).
struct SignedItem<'a> {
    item: Item,
    body: &'a [u8],
    signature: &'a [u8; 64],
}

/// What a [`SignedItem`] parses to: it carries its issueDate..nextUpdate window.
trait Issued {
    fn issued(&self) -> (UnixTime, UnixTime);
}

impl Issued for TcbInfo {
    fn issued(&self) -> (UnixTime, UnixTime) {
        (self.issue_date, self.next_update)
    }
}

impl Issued for QeIdentity {
    fn issued(&self) -> (UnixTime, UnixTime) {
        (self.issue_date, self.next_update)
    }
}

impl SignedItem<'_> {
    /// The item's signature by `signer`, then `parse` (only signed bytes are parsed), then
    /// its window at `now`.
    fn verify<T: Issued>(
        self,
        signer: &Cert,
        ecdsa: &Signatures,
        parse: fn(&[u8]) -> Result<T, VerifyError>,
        now: UnixTime,
    ) -> Result<T, VerifyError> {
        if !ecdsa.verify(
            &signer.public_key,
            self.body,
            EcdsaSig::Fixed(self.signature),
        ) {
            return Err(VerifyError::BadSignature { item: self.item });
        }
        let parsed = parse(self.body)?;
        let (from, until) = parsed.issued();
        check_window(self.item, from, until, now)?;
        Ok(parsed)
    }
}

struct Window {
    from: UnixTime,
    until: UnixTime,
}

impl Window {
    fn new(from: UnixTime, until: UnixTime) -> Window {
        Window { from, until }
    }

    fn narrow(&mut self, from: UnixTime, until: UnixTime) {
        self.from = self.from.max(from);
        self.until = self.until.min(until);
    }
}
