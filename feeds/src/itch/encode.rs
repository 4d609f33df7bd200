//! ITCH 5.0 message encoding (being written).
use super::msg::Message;

/// Appends the wire bytes of `msg` (type byte first, no length prefix) to `out`.
pub fn encode(msg: &Message, out: &mut Vec<u8>) {
    let _ = (msg, out);
}

/// Appends `msg` as a BinaryFILE frame: 2-byte big-endian length, then the message.
pub fn encode_frame(msg: &Message, out: &mut Vec<u8>) {
    let _ = (msg, out);
}
