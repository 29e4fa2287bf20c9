//! `replay --watch ADDR:LEN`: who changed these bytes, at call granularity.
//! The watched bytes are compared before each call (a change there was made
//! by the guest's code since the previous call) and after it (a change
//! there was made by the host serving the call).

use crate::hexdump::{hexdump, Region};

/// The watched regions and their bytes as last seen.
#[derive(Default)]
pub(super) struct Watches {
    regions: Vec<Region>,
    /// The bytes of each region when last compared; empty for a region
    /// outside the memory (until the memory grows to hold it).
    seen: Vec<Vec<u8>>,
}

/// One region that changed: its old and new bytes.
pub(super) struct Change {
    pub(super) region: Region,
    pub(super) old: Vec<u8>,
    pub(super) new: Vec<u8>,
}

impl Watches {
    pub(super) fn new(regions: Vec<Region>) -> Watches {
        let seen = vec![Vec::new(); regions.len()];
        Watches { regions, seen }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Whether any region's bytes differ from the last ones seen.
    pub(super) fn differ(&self, memory: &[u8]) -> bool {
        self.regions
            .iter()
            .zip(&self.seen)
            .any(|(r, seen)| current(r, memory) != seen.as_slice())
    }

    /// Takes the bytes as they are now, without reporting (the start).
    pub(super) fn look(&mut self, memory: &[u8]) {
        for (r, seen) in self.regions.iter().zip(&mut self.seen) {
            *seen = current(r, memory).to_vec();
        }
    }

    /// The regions whose bytes changed since last seen; takes the new ones.
    pub(super) fn changes(&mut self, memory: &[u8]) -> Vec<Change> {
        let mut out = Vec::new();
        for (r, seen) in self.regions.iter().zip(&mut self.seen) {
            let now = current(r, memory);
            if now != seen.as_slice() {
                let old = std::mem::replace(seen, now.to_vec());
                out.push(Change {
                    region: *r,
                    old,
                    new: now.to_vec(),
                });
            }
        }
        out
    }
}

/// A region's bytes, or none while it lies outside the memory.
fn current<'m>(r: &Region, memory: &'m [u8]) -> &'m [u8] {
    r.bytes(memory).unwrap_or(&[])
}

impl Change {
    /// `  old 00000400: ...` and `  new 00000400: ...` lines.
    pub(super) fn text(&self) -> String {
        let mut s = String::new();
        for (label, bytes) in [("old", &self.old), ("new", &self.new)] {
            if bytes.is_empty() {
                s.push_str(&format!("  {label} (outside the guest's memory)\n"));
            }
            for line in hexdump(self.region.addr, bytes).lines() {
                s.push_str(&format!("  {label} {line}\n"));
            }
        }
        s
    }
}
