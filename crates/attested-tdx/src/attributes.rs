//! TD attributes (TDATTRIBUTES, 8 bytes little-endian in the TD report).

/// The TD attributes a quote reports. Bits: 0 DEBUG, 28 SEPT_VE_DISABLE, 30 PKS, 31 KL, 63 PERFMON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TdAttributes(u64);

impl TdAttributes {
    /// DEBUG: the host can read and write the TD's memory and registers. Never trust such a TD.
    pub const DEBUG: u64 = 1 << 0;
    /// SEPT_VE_DISABLE: EPT violations are not converted to #VE in the TD.
    pub const SEPT_VE_DISABLE: u64 = 1 << 28;
    /// PKS: supervisor protection keys are enabled.
    pub const PKS: u64 = 1 << 30;
    /// KL: key locker is enabled.
    pub const KL: u64 = 1 << 31;
    /// PERFMON: the TD may use the performance monitoring unit.
    pub const PERFMON: u64 = 1 << 63;

    /// From the 8 little-endian bytes of the TD report.
    pub fn from_le_bytes(bytes: [u8; 8]) -> Self {
        Self(u64::from_le_bytes(bytes))
    }

    /// From a bit mask (for building policies and simulated quotes).
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// All 64 bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The 8 little-endian bytes as they appear in a TD report.
    pub const fn to_le_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }

    /// Whether the TD is a debug TD.
    pub const fn debug(self) -> bool {
        self.0 & Self::DEBUG != 0
    }

    /// Whether SEPT_VE_DISABLE is set.
    pub const fn sept_ve_disable(self) -> bool {
        self.0 & Self::SEPT_VE_DISABLE != 0
    }

    /// Whether PKS is set.
    pub const fn pks(self) -> bool {
        self.0 & Self::PKS != 0
    }

    /// Whether KL is set.
    pub const fn kl(self) -> bool {
        self.0 & Self::KL != 0
    }

    /// Whether PERFMON is set.
    pub const fn perfmon(self) -> bool {
        self.0 & Self::PERFMON != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_td_report_layout() {
        // Byte 3 = 0x10 is bit 28; byte 0 = 1 is bit 0; byte 7 = 0x80 is bit 63.
        let sept = TdAttributes::from_le_bytes([0, 0, 0, 0x10, 0, 0, 0, 0]);
        assert!(sept.sept_ve_disable() && !sept.debug() && !sept.pks());
        let debug = TdAttributes::from_le_bytes([1, 0, 0, 0, 0, 0, 0, 0]);
        assert!(debug.debug() && !debug.sept_ve_disable());
        let pks_kl = TdAttributes::from_le_bytes([0, 0, 0, 0xc0, 0, 0, 0, 0]);
        assert!(pks_kl.pks() && pks_kl.kl() && !pks_kl.perfmon());
        let perfmon = TdAttributes::from_le_bytes([0, 0, 0, 0, 0, 0, 0, 0x80]);
        assert!(perfmon.perfmon());
        assert_eq!(
            TdAttributes::from_bits(perfmon.bits()).to_le_bytes()[7],
            0x80
        );
    }
}
