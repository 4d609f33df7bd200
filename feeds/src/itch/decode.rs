//! ITCH 5.0 message decoding (being written).
use super::msg::Message;

/// Why a message could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the message type needs.
    #[error("truncated ITCH message: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the type needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

/// Decodes one message (type byte first, no length prefix).
///
/// # Errors
/// See [`DecodeError`].
pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
    Err(DecodeError::Truncated { need: 1, have: buf.len() })
}
