//! PDF file syntax: numbers, strings, compressed streams, and a file of numbered objects with its
//! cross-reference table.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

/// Appends `v` with at most `decimals` decimals (trailing zeros dropped): `12`, `0.55`, `-3.5`.
pub(super) fn num(out: &mut Vec<u8>, v: f32, decimals: u32) {
    let scale = 10i64.pow(decimals);
    let scaled = (f64::from(v) * scale as f64).round() as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let abs = scaled.unsigned_abs();
    let scale = scale as u64;
    int(out, abs / scale);
    let mut frac = abs % scale;
    if frac != 0 {
        out.push(b'.');
        let mut div = scale / 10;
        while frac != 0 {
            out.push(b'0' + (frac / div) as u8);
            frac %= div;
            div /= 10;
        }
    }
}

/// Appends a non-negative integer.
pub(super) fn int(out: &mut Vec<u8>, v: u64) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends the bytes as a literal string `( … )`, escaping what the syntax needs escaped (and
/// line ends, which readers would otherwise normalise).
pub(super) fn literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// Appends a text string in UTF-16BE with byte-order mark, as hex: Vietnamese survives in metadata.
pub(super) fn text_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(b"<FEFF");
    for unit in s.encode_utf16() {
        hex_u16(out, unit);
    }
    out.push(b'>');
}

pub(super) fn hex_u16(out: &mut Vec<u8>, v: u16) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((v >> shift) & 0xF)]);
    }
}

/// Deflate (zlib format, `/FlateDecode`). Fast compression: the bytes are small, and the level
/// barely changes their size while it multiplies the time.
pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::new(DEFLATE_LEVEL),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

pub(super) const DEFLATE_LEVEL: u32 = 6;

/// A PDF file being written: objects are numbered in the order they are begun.
pub(super) struct PdfFile {
    pub(super) out: Vec<u8>,
    offsets: Vec<usize>,
}

impl PdfFile {
    /// A file starting with the header (and the comment of high bytes that marks it binary).
    pub(super) fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        Self {
            out,
            offsets: Vec::new(),
        }
    }

    /// A file continuing `prefix`, a header and the objects `1..=offsets.len()` written earlier.
    pub(super) fn resume(prefix: &[u8], offsets: &[usize], capacity: usize) -> Self {
        let mut out = Vec::with_capacity(prefix.len() + capacity);
        out.extend_from_slice(prefix);
        Self {
            out,
            offsets: offsets.to_vec(),
        }
    }

    pub(super) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Begins the next object (`N 0 obj`); returns its number.
    pub(super) fn begin(&mut self) -> usize {
        self.offsets.push(self.out.len());
        let n = self.offsets.len();
        int(&mut self.out, n as u64);
        self.out.extend_from_slice(b" 0 obj\n");
        n
    }

    pub(super) fn end(&mut self) {
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// A whole object holding `dict`.
    pub(super) fn object(&mut self, dict: &[u8]) -> usize {
        let n = self.begin();
        self.out.extend_from_slice(dict);
        self.end();
        n
    }

    /// A stream object: `entries` are extra dictionary entries (`/Filter` included if any).
    pub(super) fn stream(&mut self, entries: &[u8], data: &[u8]) -> usize {
        let n = self.begin();
        self.out.extend_from_slice(b"<<");
        self.out.extend_from_slice(entries);
        self.out.extend_from_slice(b"/Length ");
        int(&mut self.out, data.len() as u64);
        self.out.extend_from_slice(b">>\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream");
        self.end();
        n
    }

    /// Writes the cross-reference table and the trailer (`trailer` is the dictionary's entries
    /// besides `/Size`), and returns the file.
    pub(super) fn finish(mut self, trailer: &[u8]) -> Vec<u8> {
        let xref_at = self.out.len();
        self.out.extend_from_slice(b"xref\n0 ");
        int(&mut self.out, self.offsets.len() as u64 + 1);
        // Each entry is exactly 20 bytes, end of line included.
        self.out.extend_from_slice(b"\n0000000000 65535 f\r\n");
        for &offset in &self.offsets {
            let mut digits = [b'0'; 10];
            let mut n = offset;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            self.out.extend_from_slice(&digits);
            self.out.extend_from_slice(b" 00000 n\r\n");
        }
        self.out.extend_from_slice(b"trailer\n<</Size ");
        int(&mut self.out, self.offsets.len() as u64 + 1);
        self.out.extend_from_slice(trailer);
        self.out.extend_from_slice(b">>\nstartxref\n");
        int(&mut self.out, xref_at as u64);
        self.out.extend_from_slice(b"\n%%EOF\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: f32, d: u32) -> String {
        let mut out = Vec::new();
        num(&mut out, v, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_short_and_exact_to_their_decimals() {
        assert_eq!(n(12.0, 2), "12");
        assert_eq!(n(0.545_098, 3), "0.545");
        assert_eq!(n(-3.5, 2), "-3.5");
        assert_eq!(n(841.889_8, 2), "841.89");
        assert_eq!(n(0.004, 2), "0");
        assert_eq!(n(-0.004, 2), "0");
        assert_eq!(n(10.05, 2), "10.05");
        assert_eq!(n(0.0, 2), "0");
    }

    #[test]
    fn literal_strings_escape_delimiters_and_line_ends() {
        let mut out = Vec::new();
        literal(&mut out, b"a(b)c\\d\re\nf\x00");
        assert_eq!(out, b"(a\\(b\\)c\\\\d\\re\\nf\x00)");
    }
}
