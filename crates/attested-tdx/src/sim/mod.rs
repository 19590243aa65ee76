//! # A simulated Intel TDX platform. FOR TESTS AND DEMOS ONLY.
//!
//! **Nothing this module produces proves anything about real hardware.** It holds every private
//! key of its own test PKI, so it can sign any measurement anyone asks for. Its quotes verify
//! only against its own simulated root certificate ("attested simulated SGX Root CA"), never
//! against Intel's SGX Root CA. A verifier that trusts [`SimPlatform::root_certificate_der`]
//! trusts anyone who can run this code: never ship that root as a trust anchor.
//!
//! What it gives tests and demos:
//! - a deterministic test PKI from a seed and a caller-given `now`: root CA, PCK platform CA, a
//!   PCK leaf carrying Intel's SGX extensions (PPID, TCB with CPUSVN and PCESVN, PCE-ID, FMSPC,
//!   SGX type, platform instance ID, configuration), a TCB signing certificate, a root CA CRL
//!   and a PCK CRL, all shaped like Intel's;
//! - byte-valid, correctly signed quotes (v4 and v5 with body types 2, 3 and 4) with chosen
//!   MRTD, RTMRs, REPORTDATA, attributes and TCB values ([`QuoteSpec`]): the quote signature
//!   by an attestation key, whose QE report is signed by the PCK leaf key and binds the key as
//!   DCAP requires, and certification data type 6 wrapping the PEM PCK chain;
//! - matching collateral in Intel PCS format (TCB Info v3 for TDX, QE Identity v2 for TD_QE,
//!   issuer chains, CRLs; [`PcsCollateral`]) and in dcap-qvl's `QuoteCollateralV3` JSON.
//!
//! Everything is deterministic: the same seed, `now` and configuration give the same bytes
//! (ECDSA signatures use RFC 6979 nonces). The collateral is valid from one day before `now`
//! ([`SimPlatform::valid_from`]) to just before 30 days after it ([`SimPlatform::valid_until`]).
//!
//! ```
//! use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
//!
//! let now = 1_750_000_000; // seconds since the Unix epoch
//! let platform = SimPlatform::from_seed(b"my test", now)?;
//! let quote = platform.quote(&QuoteSpec {
//!     mr_td: [0xaa; 48],
//!     report_data: [0x42; 64],
//!     ..platform.quote_spec(QuoteFormat::V4)
//! })?;
//! let collateral = platform.collateral_pcs();
//! assert_eq!(&quote[0..2], &4u16.to_le_bytes());
//! assert!(collateral.tcb_info_json.starts_with(r#"{"tcbInfo":{"id":"TDX","version":3,"#));
//! # Ok::<(), attested_tdx::sim::SimError>(())
//! ```

mod collateral;
mod keys;
mod pki;
mod quotes;

use core::fmt;

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};

pub use collateral::{PcsCollateral, TcbLevelStatus};
pub use quotes::{QuoteFormat, QuoteSpec};

use collateral::{Dates, QeValues};
use keys::{derive_bytes, derive_signing_key};
use pki::{COLLATERAL_BACKDATE, COLLATERAL_LIFETIME, PckFields, Pki};
use quotes::{QE_AUTH_DATA, QeReportFields, fmspc_field};

/// Why the simulated platform could not build something.
///
/// With sane inputs none of these happen; they exist because the simulator never panics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A DER structure could not be encoded.
    #[error("simulated {what}: DER encoding failed: {source}")]
    Der {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: der::Error,
    },
    /// A certificate could not be built.
    #[error("simulated {what} certificate: {source}")]
    Certificate {
        /// Which certificate.
        what: &'static str,
        /// The builder's error.
        #[source]
        source: x509_cert::builder::Error,
    },
    /// An ECDSA signature could not be made.
    #[error("simulated {what}: ECDSA signing failed")]
    Signing {
        /// What was being signed.
        what: &'static str,
    },
    /// The collateral JSON could not be written.
    #[error("simulated collateral: JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
    /// A time is outside what X.509 and RFC 3339 can express (years 1970 to 9999).
    #[error("time {0} (seconds since the Unix epoch) is out of range")]
    TimeOutOfRange(u64),
    /// A length does not fit its wire field.
    #[error("simulated {what} is too large for its length field")]
    TooLarge {
        /// Which field.
        what: &'static str,
    },
}

/// The properties of a simulated platform: what its PCK certificate certifies, what its TD
/// module and QE report, and what its collateral says about them.
///
/// Start from [`SimConfig::default`] and change what a test needs:
/// `SimConfig { fmspc, revoke_pck: true, ..SimConfig::default() }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// FMSPC (family-model-stepping-platform-custom SKU), in the PCK leaf and the TCB Info.
    pub fmspc: [u8; 6],
    /// PCE-ID, in the PCK leaf and the TCB Info.
    pub pce_id: [u8; 2],
    /// CPUSVN: the 16 SGX TCB components, in the PCK leaf and the QE report.
    pub cpu_svn: [u8; 16],
    /// PCESVN, in the PCK leaf.
    pub pce_svn: u16,
    /// TEE_TCB_SVN of the TDX module, the default of [`QuoteSpec::tee_tcb_svn`] and the TDX
    /// components of the current TCB level. Byte 1 (the module major version) names the TDX
    /// module identity (`TDX_01`, ...), byte 0 its ISVSVN.
    pub tee_tcb_svn: [u8; 16],
    /// MRSIGNERSEAM of the TDX module (all zero: Intel), in quotes and the TCB Info.
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES of the TDX module, in quotes and the TCB Info.
    pub seam_attributes: u64,
    /// ISVSVN of the quoting enclave, in the QE report and the QE Identity.
    pub qe_svn: u16,
    /// Status of the platform's TCB level in the TCB Info.
    pub tcb_status: TcbLevelStatus,
    /// Advisory IDs of the platform's TCB level (`INTEL-SA-xxxxx`).
    pub advisory_ids: Vec<String>,
    /// Status of the QE's TCB level in the QE Identity.
    pub qe_tcb_status: TcbLevelStatus,
    /// `tcbEvaluationDataNumber` of the TCB Info and QE Identity.
    pub tcb_evaluation_data_number: u32,
    /// List the PCK leaf as revoked (key compromise) in the PCK CRL.
    pub revoke_pck: bool,
    /// `tcbEvaluationDataNumber` of the QE Identity when it differs from the TCB Info's.
    pub qe_tcb_evaluation_data_number: Option<u32>,
    /// The `id`s of the TCB Info's `tdxModuleIdentities`, each a copy of the module's
    /// identity; empty writes the one `TDX_hh` of the module version (`tee_tcb_svn[1]`).
    pub tdx_module_identity_ids: Vec<String>,
    /// Which certificate signs the TCB Info and the QE Identity.
    pub collateral_signer: CollateralSigner,
    /// List the root CA itself as revoked in the root CA CRL.
    pub revoke_root: bool,
    /// Subject CN of the PCK leaf instead of "attested simulated SGX PCK Certificate".
    pub pck_common_name: Option<String>,
    /// List the TCB signing certificate as revoked in the root CA CRL.
    pub revoke_tcb_signing: bool,
    /// Deliberate certificate defects, for refusal tests (none by default).
    pub cert_defects: Vec<CertDefect>,
}

/// A certificate of the simulated PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimCert {
    /// The self-signed root CA.
    Root,
    /// The PCK platform CA (issues the PCK leaf and the PCK CRL).
    PckPlatformCa,
    /// The PCK leaf.
    PckLeaf,
    /// The TCB signing certificate (signs TCB Info and QE Identity).
    TcbSigning,
}

/// A deliberate defect in one certificate of the simulated PKI, which a verifier must refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertDefect {
    /// KeyUsage without keyCertSign (a CA keeps cRLSign).
    NoKeyCertSign(SimCert),
    /// KeyUsage without cRLSign (a CA keeps keyCertSign).
    NoCrlSign(SimCert),
    /// KeyUsage without digitalSignature (a signer keeps nonRepudiation).
    NoDigitalSignature(SimCert),
    /// pathLenConstraint 0 on the root, which the PCK CA below it then exceeds.
    RootPathLenZero,
    /// An extension of an OID nobody processes, marked critical.
    UnknownCriticalExtension(SimCert),
}

/// The certificate that signs the simulated TCB Info and QE Identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollateralSigner {
    /// The TCB signing certificate, as Intel does.
    #[default]
    TcbSigning,
    /// The PCK platform CA: issued by the same root, but for another role.
    PckPlatformCa,
}

impl Default for SimConfig {
    /// A TDX 1.5 Emerald Rapids-like platform that is up to date.
    fn default() -> Self {
        Self {
            fmspc: [0x90, 0xc0, 0x6f, 0x00, 0x00, 0x00],
            pce_id: [0, 0],
            cpu_svn: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
            pce_svn: 13,
            tee_tcb_svn: [6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            mr_signer_seam: [0; 48],
            seam_attributes: 0,
            qe_svn: 4,
            tcb_status: TcbLevelStatus::UpToDate,
            advisory_ids: Vec::new(),
            qe_tcb_status: TcbLevelStatus::UpToDate,
            tcb_evaluation_data_number: 17,
            revoke_pck: false,
            qe_tcb_evaluation_data_number: None,
            tdx_module_identity_ids: Vec::new(),
            collateral_signer: CollateralSigner::TcbSigning,
            revoke_root: false,
            pck_common_name: None,
            revoke_tcb_signing: false,
            cert_defects: Vec::new(),
        }
    }
}

/// ISVPRODID of Intel's TD quoting enclave.
const TD_QE_ISV_PROD_ID: u16 = 2;

/// A simulated TDX platform: test PKI, quoting enclave and collateral. For tests and demos only;
/// see the [module documentation](self).
pub struct SimPlatform {
    config: SimConfig,
    now: u64,
    pki: Pki,
    attestation_key: SigningKey,
    qe_id: [u8; 16],
    /// Attestation key and certification data: the same in every quote of this platform.
    signature_tail: Vec<u8>,
    pck_chain_pem: String,
    collateral: PcsCollateral,
    dcap_qvl_json: String,
}

impl fmt::Debug for SimPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys.
        f.debug_struct("SimPlatform")
            .field("config", &self.config)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl SimPlatform {
    /// The default platform ([`SimConfig::default`]) derived from `seed`, with certificates and
    /// collateral valid at `now` (seconds since the Unix epoch).
    pub fn from_seed(seed: &[u8], now: u64) -> Result<Self, SimError> {
        Self::with_config(seed, now, SimConfig::default())
    }

    /// A platform with the given properties, derived from `seed`, valid at `now`.
    ///
    /// Keys and serial numbers depend only on `seed`, so platforms made from one seed and one
    /// `now` share their root, platform CA and TCB signing certificates whatever their
    /// configurations. Mixing their quotes and collateral makes validly signed mismatches (an
    /// FMSPC, a TCB level, a QE Identity) for testing a verifier's checks.
    pub fn with_config(seed: &[u8], now: u64, config: SimConfig) -> Result<Self, SimError> {
        let (ppid, platform_instance_id) = pki::platform_ids(seed);
        let pki = Pki::new(
            seed,
            now,
            &PckFields {
                ppid: &ppid,
                cpu_svn: &config.cpu_svn,
                pce_svn: config.pce_svn,
                pce_id: &config.pce_id,
                fmspc: &config.fmspc,
                platform_instance_id: &platform_instance_id,
            },
            &pki::Revocations {
                pck: config.revoke_pck,
                root: config.revoke_root,
                tcb_signing: config.revoke_tcb_signing,
            },
            config.pck_common_name.as_deref(),
            &config.cert_defects,
        )?;
        let pck_chain_pem = [&pki.pck.pem, &pki.platform_ca.pem, &pki.root.pem]
            .iter()
            .map(|pem| pem.as_str())
            .collect::<String>();

        // The quoting enclave: its attestation key, certified by a QE report that the PCK key
        // signs.
        let attestation_key = derive_signing_key(seed, "attestation key");
        let attestation_public = public_key_xy(&attestation_key);
        let qe_mr_signer: [u8; 32] = derive_bytes(seed, "QE MRSIGNER");
        let qe_report = quotes::encode_qe_report(
            &QeReportFields {
                cpu_svn: &config.cpu_svn,
                mr_enclave: &derive_bytes(seed, "QE MRENCLAVE"),
                mr_signer: &qe_mr_signer,
                isv_prod_id: TD_QE_ISV_PROD_ID,
                isv_svn: config.qe_svn,
            },
            &attestation_public,
            &QE_AUTH_DATA,
        );
        let qe_report_signature = sign_raw(&pki.pck.key, &qe_report, "QE report")?;
        let signature_tail = quotes::encode_signature_tail(
            &attestation_public,
            &qe_report,
            &qe_report_signature,
            &QE_AUTH_DATA,
            pck_chain_pem.as_bytes(),
        )?;

        let dates = Dates {
            issued: now.saturating_sub(COLLATERAL_BACKDATE),
            next_update: now.saturating_add(COLLATERAL_LIFETIME),
            now,
        };
        let tcb_info = collateral::tcb_info(&config, &dates)?;
        let qe_identity = collateral::qe_identity(
            &config,
            &QeValues {
                mr_signer: &qe_mr_signer,
                isv_prod_id: TD_QE_ISV_PROD_ID,
            },
            &dates,
        )?;
        let signer = match config.collateral_signer {
            CollateralSigner::TcbSigning => &pki.tcb_signing,
            CollateralSigner::PckPlatformCa => &pki.platform_ca,
        };
        let (tcb_info_json, tcb_info_signature) =
            collateral::sign_json(&signer.key, "tcbInfo", &tcb_info)?;
        let (qe_identity_json, qe_identity_signature) =
            collateral::sign_json(&signer.key, "enclaveIdentity", &qe_identity)?;
        let tcb_chain = format!("{}{}", signer.pem, pki.root.pem);
        let collateral = PcsCollateral {
            tcb_info_json,
            tcb_info,
            tcb_info_signature,
            tcb_info_issuer_chain: tcb_chain.clone(),
            qe_identity_json,
            qe_identity,
            qe_identity_signature,
            qe_identity_issuer_chain: tcb_chain,
            root_ca_crl: pki.root_crl.clone(),
            pck_crl: pki.pck_crl.clone(),
            pck_crl_issuer_chain: format!("{}{}", pki.platform_ca.pem, pki.root.pem),
        };
        let dcap_qvl_json = collateral.to_dcap_qvl_json()?;

        Ok(Self {
            qe_id: derive_bytes(seed, "QE ID"),
            config,
            now,
            pki,
            attestation_key,
            signature_tail,
            pck_chain_pem,
            collateral,
            dcap_qvl_json,
        })
    }

    /// A quote spec for `format` carrying this platform's TCB values (TEE_TCB_SVN, MRSIGNERSEAM,
    /// SEAMATTRIBUTES, and for TD 1.5 extended the initial CPUSVN and FMSPC), so that a quote
    /// from it matches the platform's collateral. Other fields are [`QuoteSpec::default`]'s.
    pub fn quote_spec(&self, format: QuoteFormat) -> QuoteSpec {
        let config = &self.config;
        QuoteSpec {
            format,
            tee_tcb_svn: config.tee_tcb_svn,
            mr_signer_seam: config.mr_signer_seam,
            seam_attributes: config.seam_attributes,
            tee_tcb_svn2: config.tee_tcb_svn,
            init_cpu_svn: config.cpu_svn,
            init_tee_tcb_svn: config.tee_tcb_svn,
            init_tee_fmspc: fmspc_field(&config.fmspc),
            ..QuoteSpec::default()
        }
    }

    /// A signed quote with the fields of `spec`.
    ///
    /// The quote signature (ECDSA P-256 by the attestation key, raw r||s) covers the header, the
    /// v5 body descriptor and the body: `[0, 632)` for v4, `[0, 54 + body size)` for v5.
    pub fn quote(&self, spec: &QuoteSpec) -> Result<Vec<u8>, SimError> {
        let format = spec.format;
        let signature_data_len = 64 + self.signature_tail.len();
        let mut quote =
            Vec::with_capacity(format.signed_len() + 4 + signature_data_len + spec.trailing_zeros);
        quotes::encode_header(format, &self.qe_id, &mut quote);
        quotes::encode_body(spec, &mut quote)?;
        let signature = sign_raw(&self.attestation_key, &quote, "quote")?;
        quote.extend_from_slice(&quotes::le_u32(signature_data_len, "signature data")?);
        quote.extend_from_slice(&signature);
        quote.extend_from_slice(&self.signature_tail);
        quote.resize(quote.len() + spec.trailing_zeros, 0);
        Ok(quote)
    }

    /// The collateral in Intel PCS format.
    pub fn collateral_pcs(&self) -> &PcsCollateral {
        &self.collateral
    }

    /// The collateral as dcap-qvl's `QuoteCollateralV3` JSON.
    pub fn collateral_dcap_qvl_json(&self) -> &str {
        &self.dcap_qvl_json
    }

    /// The simulated root CA certificate (DER): the only trust anchor the quotes verify against.
    pub fn root_certificate_der(&self) -> &[u8] {
        &self.pki.root.der
    }

    /// The simulated root CA certificate (PEM).
    pub fn root_certificate_pem(&self) -> &str {
        &self.pki.root.pem
    }

    /// The PCK platform CA certificate (DER).
    pub fn platform_ca_certificate_der(&self) -> &[u8] {
        &self.pki.platform_ca.der
    }

    /// The PCK leaf certificate (DER), with the Intel SGX extensions.
    pub fn pck_certificate_der(&self) -> &[u8] {
        &self.pki.pck.der
    }

    /// The TCB signing certificate (DER), which signs TCB Info and QE Identity.
    pub fn tcb_signing_certificate_der(&self) -> &[u8] {
        &self.pki.tcb_signing.der
    }

    /// The PCK chain as every quote carries it: leaf, platform CA, root (PEM).
    pub fn pck_chain_pem(&self) -> &str {
        &self.pck_chain_pem
    }

    /// The attestation public key (x || y), as quotes carry it.
    pub fn attestation_public_key(&self) -> [u8; 64] {
        public_key_xy(&self.attestation_key)
    }

    /// The platform's properties.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The `now` the platform was made for (seconds since the Unix epoch).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The first second at which all certificates, CRLs and collateral are valid.
    pub fn valid_from(&self) -> u64 {
        self.now.saturating_sub(COLLATERAL_BACKDATE)
    }

    /// The last second at which all certificates, CRLs and collateral are valid: one second
    /// before the `nextUpdate` of the PCK CRL, TCB Info and QE Identity (a CRL is stale from its
    /// `nextUpdate` on).
    pub fn valid_until(&self) -> u64 {
        self.now
            .saturating_add(COLLATERAL_LIFETIME)
            .saturating_sub(1)
    }
}

/// ECDSA P-256 / SHA-256 signature, raw r||s.
fn sign_raw(key: &SigningKey, message: &[u8], what: &'static str) -> Result<[u8; 64], SimError> {
    let signature: Signature = key
        .try_sign(message)
        .map_err(|_| SimError::Signing { what })?;
    Ok(signature.to_bytes().into())
}

/// The public key as DCAP writes it: x || y, without the SEC1 0x04 prefix.
fn public_key_xy(key: &SigningKey) -> [u8; 64] {
    let point = key.verifying_key().to_sec1_point(false);
    let mut xy = [0u8; 64];
    if let Some(coordinates) = point.as_bytes().get(1..65) {
        xy.copy_from_slice(coordinates);
    }
    xy
}
