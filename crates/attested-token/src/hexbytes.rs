//! Hex-encoded fixed-size claim values.

use serde::Deserialize;

/// Deserializes a hex string of exactly `N` bytes.
pub(crate) fn fixed<'de, D: serde::Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<[u8; N], D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    let mut out = [0u8; N];
    hex::decode_to_slice(text.as_bytes(), &mut out)
        .map_err(|e| serde::de::Error::custom(format!("expected {N} hex bytes: {e}")))?;
    Ok(out)
}

/// As [`fixed`], for an optional claim.
pub(crate) fn fixed_opt<'de, D: serde::Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<Option<[u8; N]>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap<const M: usize>(#[serde(deserialize_with = "fixed")] [u8; M]);
    Ok(Option::<Wrap<N>>::deserialize(deserializer)?.map(|w| w.0))
}

/// Hex of a byte string, for error messages.
pub(crate) fn show(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Whether `a` and `b` are equal, compared in constant time (for equal lengths): the values a
/// policy pins (measurements, REPORTDATA, nonces) are compared with this, never with `==`.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}
