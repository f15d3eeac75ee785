//! PDF file syntax: numbers, strings, compressed streams, and a file of numbered objects with its
//! cross-reference table.

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress, Status};

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

/// Deflate (zlib format, `/FlateDecode`).
pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    with_compressor(true, |compress| run(compress, &mut out, data, true));
    out
}

/// Compression level: the default. Lower levels barely save time on pages this small, and the
/// fastest costs 15 % in size.
pub(super) const DEFLATE_LEVEL: u32 = 6;

/// Appends `data` as raw deflate data (no zlib header or checksum). Unless `last`, it ends in a
/// sync flush: byte-aligned and not final, so that more deflate data may follow in the same
/// stream. `dictionary` is what the stream holds just before `data`, which it may refer back to.
pub(super) fn deflate_raw(out: &mut Vec<u8>, data: &[u8], last: bool, dictionary: &[u8]) {
    with_compressor(false, |compress| {
        if !dictionary.is_empty() {
            // Only a window's worth counts.
            let window = &dictionary[dictionary.len().saturating_sub(32 * 1024)..];
            let _ = compress.set_dictionary(window);
        }
        run(compress, out, data, last);
    });
}

/// A compressor of this thread, reset: making one allocates and clears some 300 KB, which took
/// a fifth of a page's time when done for each stream.
fn with_compressor<R>(zlib: bool, f: impl FnOnce(&mut Compress) -> R) -> R {
    thread_local! {
        static ZLIB: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(DEFLATE_LEVEL), true));
        static RAW: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(DEFLATE_LEVEL), false));
    }
    let key = if zlib { &ZLIB } else { &RAW };
    key.with(|cell| {
        let mut compress = cell.borrow_mut();
        compress.reset();
        f(&mut compress)
    })
}

/// Compresses all of `data` onto `out`, finishing the stream if `last`, else with a sync flush.
fn run(compress: &mut Compress, out: &mut Vec<u8>, data: &[u8], last: bool) {
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        out.reserve(data.len() / 2 + 256);
        let consumed = compress.total_in() as usize;
        match compress.compress_vec(&data[consumed..], out, flush) {
            Ok(Status::StreamEnd) => return,
            // A flush is complete when it leaves output space unused.
            Ok(_)
                if !last
                    && compress.total_in() as usize == data.len()
                    && out.len() < out.capacity() =>
            {
                return
            }
            Ok(_) => {}
            Err(e) => {
                debug_assert!(false, "deflate failed: {e}");
                return;
            }
        }
    }
}

/// Continues an Adler-32 checksum (start from 1) over `data`: the zlib stream's trailer.
pub(super) fn adler32(state: u32, data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (state & 0xFFFF, state >> 16);
    // 5552 bytes is the most that can be summed before the u32s could overflow.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

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

    /// Pieces of raw deflate data, all but the last sync-flushed, make one zlib stream.
    #[test]
    fn deflate_pieces_join_into_one_zlib_stream() {
        use std::io::Read;
        let parts: [&[u8]; 3] = [
            b"head tables head tables",
            &[7u8; 9000],
            b"the rest, the rest",
        ];
        let mut stream = vec![0x78, 0x9C];
        for (i, part) in parts.iter().enumerate() {
            // each piece may refer back to what precedes it
            let before = parts[..i].concat();
            deflate_raw(&mut stream, part, i == parts.len() - 1, &before);
        }
        let whole: Vec<u8> = parts.concat();
        stream.extend_from_slice(&parts.iter().fold(1, |s, p| adler32(s, p)).to_be_bytes());
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&stream[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, whole);
        // The checksum is zlib's, and an empty piece changes nothing.
        let mut direct = Vec::new();
        flate2::read::ZlibDecoder::new(&deflate(&whole)[..])
            .read_to_end(&mut direct)
            .unwrap();
        assert_eq!(direct, whole);
        assert_eq!(
            &deflate(&whole)[deflate(&whole).len() - 4..],
            &adler32(1, &whole).to_be_bytes()
        );
        assert_eq!(adler32(adler32(1, b"abc"), b""), adler32(1, b"abc"));
    }

    #[test]
    fn literal_strings_escape_delimiters_and_line_ends() {
        let mut out = Vec::new();
        literal(&mut out, b"a(b)c\\d\re\nf\x00");
        assert_eq!(out, b"(a\\(b\\)c\\\\d\\re\\nf\x00)");
    }
}
