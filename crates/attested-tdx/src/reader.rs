//! A bounds-checked cursor over untrusted bytes: every read names its field and offset.

use crate::errors::ParseError;

/// Reads fixed-size fields front to back. Offsets in errors are absolute (`base` + position).
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self::at(bytes, 0)
    }

    /// A reader over `bytes`, which start at absolute offset `base` of the outer input.
    pub(crate) fn at(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            position: 0,
            base,
        }
    }

    /// The absolute offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.position
    }

    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.position..).unwrap_or_default()
    }

    pub(crate) fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        let taken = self
            .position
            .checked_add(len)
            .and_then(|end| Some((end, self.bytes.get(self.position..end)?)));
        match taken {
            Some((end, bytes)) => {
                self.position = end;
                Ok(bytes)
            }
            None => Err(self.truncated(field, len)),
        }
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<&'a [u8; N], ParseError> {
        match self
            .bytes
            .get(self.position..)
            .and_then(<[u8]>::first_chunk::<N>)
        {
            Some(chunk) => {
                self.position += N;
                Ok(chunk)
            }
            None => Err(self.truncated(field, N)),
        }
    }

    #[cold]
    fn truncated(&self, field: &'static str, needed: usize) -> ParseError {
        ParseError::Truncated {
            field,
            offset: self.offset(),
            needed,
            available: self.remaining().len(),
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        self.array::<1>(field).map(|[byte]| *byte)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        self.array(field).map(|bytes| u16::from_le_bytes(*bytes))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        self.array(field).map(|bytes| u32::from_le_bytes(*bytes))
    }

    /// A `u32` little-endian length followed by that many bytes.
    pub(crate) fn u32_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let len = self.u32(field)?;
        self.take(usize::try_from(len).unwrap_or(usize::MAX), field)
    }

    /// A `u16` little-endian length followed by that many bytes.
    pub(crate) fn u16_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    /// Fails unless every byte of this reader was consumed.
    pub(crate) fn finish(&self, field: &'static str) -> Result<(), ParseError> {
        match self.remaining().len() {
            0 => Ok(()),
            extra => Err(ParseError::UnconsumedBytes {
                field,
                offset: self.offset(),
                extra,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_absolute_offsets() {
        let mut reader = Reader::at(&[1, 0, 2, 0, 0, 0, 9], 100);
        assert_eq!(reader.u16("a").unwrap(), 1);
        assert_eq!(reader.u32("b").unwrap(), 2);
        assert_eq!(reader.offset(), 106);
        let err = reader.array::<2>("c").unwrap_err();
        assert_eq!(
            err,
            ParseError::Truncated {
                field: "c",
                offset: 106,
                needed: 2,
                available: 1
            }
        );
        assert_eq!(reader.finish("block").unwrap_err().offset(), 106);
        assert_eq!(reader.u8("d").unwrap(), 9);
        reader.finish("block").unwrap();
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0]);
        assert!(matches!(
            reader.u32_prefixed("blob"),
            Err(ParseError::Truncated {
                needed: 0xffff_ffff,
                available: 1,
                ..
            })
        ));
        let mut reader = Reader::new(&[0, 0]);
        reader.position = 1;
        assert!(reader.take(usize::MAX, "x").is_err());
    }
}
