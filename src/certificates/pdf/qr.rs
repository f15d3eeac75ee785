//! The verification QR code, drawn as one filled vector path.

use printpdf::{
    Color, LinePoint, Mm, Op, PaintMode, Point, Polygon, PolygonRing, Rgb, WindingOrder,
};
use qrcode::{EcLevel, QrCode};

/// Light modules around the symbol that must stay empty for scanners to find it (ISO/IEC 18004).
pub const QUIET_ZONE_MODULES: usize = 4;

/// Where a QR symbol was placed and how big it came out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QrPlacement {
    /// Outer size of the square, quiet zone included, in mm.
    pub total_mm: f32,
    /// Size of one module in mm.
    pub module_mm: f32,
}

/// Paints `data` as a QR symbol. `(left_mm, bottom_mm)` is the lower-left corner of the square
/// *including* the quiet zone (PDF coordinates, origin bottom-left); `symbol_mm` is the width of
/// the dark-module area alone, so callers can guarantee a minimum printed size for scanning.
///
/// Error correction level M: survives a stamp or a fold across a corner of the code while keeping
/// the modules large enough for phone cameras at ~60-character URLs.
///
/// A vector path instead of an image keeps the symbol sharp at any print size, needs no image
/// codec, and has no per-render random resource ids (printpdf names image XObjects randomly),
/// which keeps the PDF byte-identical across renders.
pub fn qr_ops(
    data: &str,
    left_mm: f32,
    bottom_mm: f32,
    symbol_mm: f32,
) -> Result<(Vec<Op>, QrPlacement), qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let colors = code.to_colors();
    let module = symbol_mm / width as f32;
    let quiet = QUIET_ZONE_MODULES as f32 * module;
    let total = symbol_mm + 2.0 * quiet;
    // Top edge of the symbol proper; rows are counted downwards from it.
    let symbol_top = bottom_mm + total - quiet;
    let symbol_left = left_mm + quiet;

    // One rectangle per horizontal run of dark modules: far fewer path segments than one square
    // per module, which keeps the content stream small.
    let mut rings = Vec::new();
    for (row, row_colors) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < row_colors.len() {
            if row_colors[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < row_colors.len() && row_colors[col] == qrcode::Color::Dark {
                col += 1;
            }
            let x0 = symbol_left + start as f32 * module;
            let x1 = symbol_left + col as f32 * module;
            let y1 = symbol_top - row as f32 * module;
            let y0 = y1 - module;
            rings.push(PolygonRing {
                points: [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
                    .into_iter()
                    .map(|(x, y)| LinePoint {
                        p: Point::new(Mm(x), Mm(y)),
                        bezier: false,
                    })
                    .collect(),
            });
        }
    }

    let ops = vec![
        Op::SaveGraphicsState,
        Op::SetFillColor {
            col: Color::Rgb(Rgb {
                r: 0.0,
                g: 0.0,
                b: 0.0,
                icc_profile: None,
            }),
        },
        Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        },
        Op::RestoreGraphicsState,
    ];
    Ok((
        ops,
        QrPlacement {
            total_mm: total,
            module_mm: module,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_keeps_requested_size_and_quiet_zone() {
        let (ops, placement) =
            qr_ops("https://cascade.example/verify/K7Q2ABCD", 10.0, 10.0, 26.0).unwrap();
        assert_eq!(ops.len(), 4);
        let expected = 26.0 + 2.0 * QUIET_ZONE_MODULES as f32 * placement.module_mm;
        assert!((placement.total_mm - expected).abs() < 1e-4);
    }
}
