//! The pinned root of trust.

use std::sync::Arc;

use crate::errors::{Item, VerifyError};
use crate::x509::Cert;

/// Intel SGX Root CA (CN=Intel SGX Root CA, valid 2018-05-21 to 2049-12-31, SHA-256
/// fingerprint 44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:A7:CB:
/// B8:CC:FA:B6:74:D3), as published at
/// <https://certificates.trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.cer>.
pub const INTEL_SGX_ROOT_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
";

/// The root certificate that every chain must end at. Its key is trusted as is: its own
/// signature is not what makes it trusted, the pinning is.
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    cert: Result<Arc<Cert>, VerifyError>,
}

impl TrustAnchor {
    /// Intel SGX Root CA, pinned in this crate.
    pub fn intel_sgx_root() -> TrustAnchor {
        TrustAnchor {
            cert: TrustAnchor::from_pem(INTEL_SGX_ROOT_CA_PEM.as_bytes()).and_then(|a| a.cert),
        }
    }

    /// A root from its DER certificate (for instance a simulated platform's root).
    pub fn from_der(der: &[u8]) -> Result<TrustAnchor, VerifyError> {
        let cert = Cert::from_der(der.to_vec(), Item::RootCa)?;
        Ok(TrustAnchor {
            cert: Ok(Arc::new(cert)),
        })
    }

    /// A root from a PEM certificate.
    pub fn from_pem(pem: &[u8]) -> Result<TrustAnchor, VerifyError> {
        let (label, der) =
            der::pem::decode_vec(pem).map_err(|e| VerifyError::malformed(Item::RootCa, e))?;
        if label != "CERTIFICATE" {
            return Err(VerifyError::malformed(
                Item::RootCa,
                "PEM label is not CERTIFICATE",
            ));
        }
        TrustAnchor::from_der(&der)
    }

    /// The DER certificate.
    pub fn der(&self) -> Option<&[u8]> {
        self.cert.as_ref().ok().map(|c| c.der.as_slice())
    }

    pub(crate) fn cert(&self) -> Result<&Cert, VerifyError> {
        self.cert.as_deref().map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_intel_root_parses_and_matches_its_fingerprint() {
        let anchor = TrustAnchor::intel_sgx_root();
        let der = anchor.der().unwrap();
        assert_eq!(
            hex::encode(crate::crypto::sha256(&[der])),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
        );
        assert!(anchor.cert().unwrap().is_ca());
    }

    #[test]
    fn the_pinned_root_equals_the_shared_test_copy() {
        let Some(pem) = attested_testdata::read("tdx/intel_sgx_root_ca.pem") else {
            return;
        };
        assert_eq!(
            TrustAnchor::from_pem(&pem).unwrap().der(),
            TrustAnchor::intel_sgx_root().der()
        );
    }
}
