//! The byte ring out of the receive thread to the threaded pipeline: the receive thread copies
//! into it without allocating, and waits for room (spin, yield, sleep) rather than dropping
//! what must reach the books.

use std::io::Read;
use std::time::Duration;

/// Copies `parts` into a ring chunk's two slices, in order.
pub(crate) fn copy_into(dst: (&mut [u8], &mut [u8]), parts: &[&[u8]]) {
    let (a, b) = dst;
    let mut pos = 0usize;
    for p in parts {
        let mut src = *p;
        while !src.is_empty() {
            let (buf, off) = if pos < a.len() {
                (&mut a[pos..], pos)
            } else {
                (&mut b[pos - a.len()..], pos)
            };
            let n = buf.len().min(src.len());
            buf[..n].copy_from_slice(&src[..n]);
            src = &src[n..];
            pos = off + n;
        }
    }
}

/// Waits (spin, then yield, then sleep) until `tx` has `n` free slots or its consumer is gone.
/// Returns whether it had to wait, and whether there is room.
#[inline]
pub(crate) fn wait_room(tx: &rtrb::Producer<u8>, n: usize) -> (bool, bool) {
    if tx.slots() >= n {
        return (false, true);
    }
    let mut spins = 0u32;
    while tx.slots() < n {
        if tx.is_abandoned() {
            return (true, false);
        }
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else if spins < 128 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    (true, true)
}

/// Touches every page of a fresh ring so the receive thread does not take the page faults
/// (the kernel's allocation) on its first pass through it.
pub(crate) fn prefault(tx: &mut rtrb::Producer<u8>) {
    let n = tx.slots();
    // write_chunk fills the slots with zeros; dropping the chunk uncommitted leaves the ring
    // empty.
    drop(tx.write_chunk(n));
}

/// Reads the byte stream the receive thread writes into a ring, as a BinaryFILE for the
/// threaded pipeline; end of file once the receive side is done and the ring drained.
pub(crate) struct RingReader {
    pub(crate) rx: rtrb::Consumer<u8>,
}

impl Read for RingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut spins = 0u32;
        loop {
            let n = self.rx.slots().min(buf.len());
            if n > 0 {
                let chunk = self
                    .rx
                    .read_chunk(n)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let (a, b) = chunk.as_slices();
                buf[..a.len()].copy_from_slice(a);
                buf[a.len()..a.len() + b.len()].copy_from_slice(b);
                chunk.commit_all();
                return Ok(n);
            }
            if self.rx.is_abandoned() && self.rx.slots() == 0 {
                return Ok(0);
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_copied_across_the_wrap() {
        let (mut tx, mut rx) = rtrb::RingBuffer::<u8>::new(8);
        // Move the ring's head so the next chunk wraps: 5 in, 5 out.
        let c = tx.write_chunk(5).unwrap();
        c.commit_all();
        rx.read_chunk(5).unwrap().commit_all();
        let mut c = tx.write_chunk(7).unwrap();
        let (a, b) = c.as_mut_slices();
        assert_eq!((a.len(), b.len()), (3, 4), "the chunk wraps");
        copy_into(c.as_mut_slices(), &[b"ab", b"", b"cdefg"]);
        c.commit_all();
        let mut out = [0u8; 7];
        let mut r = RingReader { rx };
        assert_eq!(r.read(&mut out).unwrap(), 7);
        assert_eq!(&out, b"abcdefg");
        assert_eq!(wait_room(&tx, 1), (false, true));
        drop(tx);
        assert_eq!(r.read(&mut out).unwrap(), 0, "end once the writer is gone");
    }
}
