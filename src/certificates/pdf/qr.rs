//! The verification QR code: its modules, and the rectangles that paint its dark ones.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{EcLevel, QrCode};

/// Light modules around the symbol that must stay empty for scanners to find it (ISO/IEC 18004).
pub const QUIET_ZONE_MODULES: usize = 4;

/// A QR symbol's modules, row by row from the top.
pub(super) struct QrSymbol {
    width: usize,
    dark: Vec<bool>,
}

/// A rectangle of dark modules, in modules from the symbol's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ModuleRect {
    pub(super) x: u16,
    pub(super) y: u16,
    pub(super) w: u16,
    pub(super) h: u16,
}

impl QrSymbol {
    /// `data` at error correction level M: survives a stamp or a fold across a corner of the code
    /// while keeping the modules large enough for phone cameras at ~60-character URLs.
    ///
    /// The symbol is the `qrcode` crate's, module for module (a test holds it to that); only the
    /// choice among the eight masks is made here, with the crate's own penalty rules computed on
    /// plain booleans, because the crate's scoring allocates on every window it looks at and took
    /// more time than all the rest of a page.
    pub(super) fn encode(data: &str) -> Result<Self, qrcode::types::QrError> {
        let bits = qrcode::bits::encode_auto(data.as_bytes(), EcLevel::M)?;
        let version = bits.version();
        let width = usize::try_from(version.width()).unwrap_or(0);
        if width > 64 {
            // Beyond version 11 (addresses of some 200 characters): the crate's own mask choice.
            let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
            let dark = code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            return Ok(Self { width, dark });
        }
        let (data_codewords, ec_codewords) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)?;
        let mut unmasked = Canvas::new(version, EcLevel::M);
        unmasked.draw_all_functional_patterns();
        unmasked.draw_data(&data_codewords, &ec_codewords);
        let mut best: Option<(u16, Vec<u64>)> = None;
        let mut canvas = unmasked.clone();
        for pattern in MASKS {
            canvas.clone_from(&unmasked);
            canvas.apply_mask(pattern);
            // Row y, module x is bit x of rows[y].
            let rows: Vec<u64> = (0..width as i16)
                .map(|y| {
                    (0..width as i16).fold(0u64, |row, x| {
                        row | (u64::from(canvas.get(x, y).is_dark()) << x)
                    })
                })
                .collect();
            let score = penalty(&rows, width);
            // The first of equal scores wins, as in the crate.
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((score, rows));
            }
        }
        let rows = best.map(|(_, rows)| rows).unwrap_or_default();
        let dark = rows
            .iter()
            .flat_map(|row| (0..width).map(move |x| row >> x & 1 == 1))
            .collect();
        Ok(Self { width, dark })
    }

    /// Modules per side, quiet zone excluded.
    pub(super) fn width(&self) -> usize {
        self.width
    }

    /// The dark modules as rectangles: each horizontal run of dark modules, extended downwards
    /// while the rows below repeat it exactly. A vector path keeps the symbol sharp at any print
    /// size, and far fewer rectangles than modules keep the content stream small.
    pub(super) fn rectangles(&self) -> Vec<ModuleRect> {
        let mut rects: Vec<ModuleRect> = Vec::with_capacity(self.width * 8);
        // Rectangles still open at the previous row: (x, w, index in rects).
        let mut open: Vec<(u16, u16, usize)> = Vec::new();
        let mut next_open = Vec::new();
        for (y, row) in self.dark.chunks(self.width.max(1)).enumerate() {
            next_open.clear();
            let mut x = 0;
            while x < row.len() {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < row.len() && row[x] {
                    x += 1;
                }
                let (start, w) = (start as u16, (x - start) as u16);
                let index = match open.iter().find(|o| o.0 == start && o.1 == w) {
                    Some(&(_, _, index)) => {
                        rects[index].h += 1;
                        index
                    }
                    None => {
                        rects.push(ModuleRect {
                            x: start,
                            y: y as u16,
                            w,
                            h: 1,
                        });
                        rects.len() - 1
                    }
                };
                next_open.push((start, w, index));
            }
            std::mem::swap(&mut open, &mut next_open);
        }
        rects
    }

    #[cfg(test)]
    pub(super) fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// The masks in the crate's order (ties go to the first).
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The `qrcode` crate's penalty score of a masked symbol (ISO/IEC 18004 §7.8.3 as the crate
/// computes it, in its 16-bit arithmetic), so that the same mask is chosen. Each row is a word of
/// bits (module x is bit x), which turns the crate's module-by-module scans into a few shifts.
fn penalty(rows: &[u64], width: usize) -> u16 {
    let columns: Vec<u64> = (0..width)
        .map(|x| {
            rows.iter()
                .enumerate()
                .fold(0u64, |col, (y, row)| col | ((row >> x & 1) << y))
        })
        .collect();
    let full = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut score = 0u16;
    for lines in [rows, &columns] {
        let (runs, finders) = line_penalties(lines, width, full);
        // The crate counts the three real finder patterns too, and takes them off as 360.
        score = score
            .wrapping_add(runs)
            .wrapping_add(finders.wrapping_sub(360));
    }
    // 2×2 blocks of one colour: 3 points each. Bit x is set where modules x and x+1 of both
    // rows are alike.
    let pairs = full >> 1;
    for pair in rows.windows(2) {
        let (top, bottom) = (pair[0], pair[1]);
        let alike = !(top ^ bottom) & !(top ^ (top >> 1)) & !(bottom ^ (bottom >> 1)) & pairs;
        score = score.wrapping_add(3 * alike.count_ones() as u16);
    }
    // Balance of dark and light.
    let dark: usize = rows.iter().map(|r| r.count_ones() as usize).sum();
    let ratio = dark * 200 / (width * width).max(1);
    score.wrapping_add(ratio.abs_diff(100) as u16)
}

/// Along each line: runs of five or more modules of one colour (3 points, plus one per module
/// beyond five), and finder-like 1:1:3:1:1 patterns without four light modules on either side
/// (40 points each).
fn line_penalties(lines: &[u64], width: usize, full: u64) -> (u16, u16) {
    let (mut runs, mut finders) = (0u16, 0u16);
    for &line in lines {
        // Runs end where a module differs from the next one, and at the line's end.
        let mut ends = (line ^ (line >> 1)) & (full >> 1) | 1u64 << (width - 1);
        let mut start = 0;
        while ends != 0 {
            let end = ends.trailing_zeros() as usize;
            let len = (end + 1 - start) as u16;
            if len >= 5 {
                runs = runs.wrapping_add(len - 2);
            }
            start = end + 1;
            ends &= ends - 1;
        }
        // Bit j: modules j..j+7 read dark, light, dark, dark, dark, light, dark.
        let mut found = line
            & !(line >> 1)
            & (line >> 2)
            & (line >> 3)
            & (line >> 4)
            & !(line >> 5)
            & (line >> 6)
            & (full >> 6);
        while found != 0 {
            let j = found.trailing_zeros() as usize;
            let before = (line >> j.saturating_sub(4)) & ((1u64 << j.min(4)) - 1);
            let after = (line >> (j + 7).min(63)) & 0xF & (full >> (j + 7).min(63));
            let after = if j + 7 >= width { 0 } else { after };
            if before == 0 || after == 0 {
                finders = finders.wrapping_add(40);
            }
            found &= found - 1;
        }
    }
    (runs, finders)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Module for module what `QrCode::with_error_correction_level` makes (mask choice included),
    /// over addresses of many lengths and contents.
    #[test]
    fn the_symbol_is_the_qrcode_crates() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789abcdefghijkmnopqrstuvwxyz-_/.";
        let mut seen_large = false;
        for n in 0..320 {
            let mut url = String::from("https://cascade.bhxh.example.vn/verify/");
            // The last ones are longer than version 11 holds: the crate's own path.
            for _ in 0..(if n < 300 { n % 90 } else { 150 + 10 * n % 200 }) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                url.push(alphabet[(seed % alphabet.len() as u64) as usize] as char);
            }
            let ours = QrSymbol::encode(&url).unwrap();
            let theirs =
                qrcode::QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
            assert_eq!(ours.width(), theirs.width(), "{url}");
            let theirs: Vec<bool> = theirs
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            assert!(ours.dark == theirs, "{url}");
            seen_large |= ours.width() > 64;
        }
        assert!(seen_large);
    }

    #[test]
    fn rectangles_cover_exactly_the_dark_modules() {
        let symbol = QrSymbol::encode("https://cascade.example/verify/K7Q2ABCD").unwrap();
        let w = symbol.width();
        let mut painted = vec![0u8; w * w];
        for r in symbol.rectangles() {
            for y in r.y..r.y + r.h {
                for x in r.x..r.x + r.w {
                    painted[usize::from(y) * w + usize::from(x)] += 1;
                }
            }
        }
        for y in 0..w {
            for x in 0..w {
                assert_eq!(
                    painted[y * w + x],
                    u8::from(symbol.is_dark(x, y)),
                    "{x},{y}"
                );
            }
        }
    }
}
