//! The verification QR code: its modules, and the rectangles that paint its dark ones.

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
    pub(super) fn encode(data: &str) -> Result<Self, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
        Ok(Self {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

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
