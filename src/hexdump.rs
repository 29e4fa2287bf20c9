//! Guest memory as `xxd` shows it: the address, 16 bytes in hex in groups
//! of two, then the bytes as text (`.` for what is not printable ASCII).

use anyhow::{bail, Context, Result};
use std::str::FromStr;

/// A range of guest memory named on the command line as `ADDR:LEN`
/// (`--memory`, `--watch`): ADDR decimal or 0x hex, LEN decimal or hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub addr: u32,
    pub len: u32,
}

impl Region {
    /// The region's bytes, or why it is not inside a memory of `size` bytes.
    pub fn bytes<'m>(&self, memory: &'m [u8]) -> Result<&'m [u8]> {
        let end = self.addr as u64 + self.len as u64;
        if end > memory.len() as u64 {
            bail!(
                "{self} is outside the guest's memory ({} bytes)",
                memory.len()
            );
        }
        Ok(&memory[self.addr as usize..end as usize])
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}:{}", self.addr, self.len)
    }
}

fn number(s: &str) -> Result<u32> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.with_context(|| format!("{s:?} is not a number (decimal, or hex with 0x)"))
}

impl FromStr for Region {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Region> {
        let Some((addr, len)) = s.split_once(':') else {
            bail!("{s:?}: expected ADDR:LEN, e.g. 0x1000:64");
        };
        let region = Region {
            addr: number(addr).with_context(|| format!("{s:?}: bad address"))?,
            len: number(len).with_context(|| format!("{s:?}: bad length"))?,
        };
        if region.len == 0 {
            bail!("{s:?}: the length must be at least 1");
        }
        if region.addr as u64 + region.len as u64 > u32::MAX as u64 + 1 {
            bail!("{s:?}: goes past the 4 GiB a 32-bit memory can have");
        }
        Ok(region)
    }
}

/// `bytes`, which start at guest address `addr`, as `xxd` lines.
pub fn hexdump(addr: u32, bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, row) in bytes.chunks(16).enumerate() {
        let at = addr as u64 + 16 * i as u64;
        out.push_str(&format!("{at:08x}: "));
        for col in 0..16 {
            match row.get(col) {
                Some(b) => out.push_str(&format!("{b:02x}")),
                None => out.push_str("  "),
            }
            if col % 2 == 1 {
                out.push(' ');
            }
        }
        out.push(' ');
        out.extend(row.iter().map(|&b| printable(b)));
        out.push('\n');
    }
    out
}

fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        b as char
    } else {
        '.'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_xxd() {
        assert_eq!(
            hexdump(0x1000, b"Hello, memory!\n\0xyz"),
            "00001000: 4865 6c6c 6f2c 206d 656d 6f72 7921 0a00  Hello, memory!..\n\
             00001010: 7879 7a                                  xyz\n"
        );
    }

    #[test]
    fn regions_parse_decimal_and_hex_and_name_what_is_wrong() {
        let r: Region = "0x400:16".parse().unwrap();
        assert_eq!(
            r,
            Region {
                addr: 1024,
                len: 16
            }
        );
        assert_eq!("1024:0x10".parse::<Region>().unwrap(), r);
        let err = |s: &str| format!("{:#}", s.parse::<Region>().unwrap_err());
        assert!(err("1024").contains("expected ADDR:LEN"), "{}", err("1024"));
        assert!(err("zz:4").contains("bad address"), "{}", err("zz:4"));
        assert!(err("4:0").contains("at least 1"), "{}", err("4:0"));
        let outside = r.bytes(&[0u8; 1030]).unwrap_err().to_string();
        assert_eq!(
            outside,
            "0x400:16 is outside the guest's memory (1030 bytes)"
        );
    }
}
