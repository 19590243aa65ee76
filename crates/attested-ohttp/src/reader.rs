use crate::error::{Error, Result};

/// A cursor over untrusted bytes: every read checks the length and names what it reads.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8]> {
        if len > self.bytes.len() {
            return Err(Error::Truncated { what });
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.bytes)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        let (&first, tail) = self.bytes.split_first().ok_or(Error::Truncated { what })?;
        self.bytes = tail;
        Ok(first)
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.take(2, what)?;
        let mut a = [0u8; 2];
        a.copy_from_slice(b);
        Ok(u16::from_be_bytes(a))
    }

    pub(crate) fn finish(self, what: &'static str) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes {
                what,
                count: self.bytes.len(),
            })
        }
    }
}
