//! A face's TrueType program cut down to the glyphs one certificate shows. The outlines are read
//! and stripped of hinting once per process; a certificate's subset is then a copy of the records
//! it needs with their component ids renumbered, and a handful of small tables.

use super::sfnt::{bytes_at, glyph_records, i16_at, u16_at, FontResult, GlyphRecord, Sfnt};

/// Everything of one face that subsets are built from.
pub(super) struct FontProgram {
    records: Vec<GlyphRecord>,
    /// `(advance, left side bearing)` of every glyph, from `hmtx`.
    metrics: Vec<(u16, i16)>,
    head: Vec<u8>,
    hhea: Vec<u8>,
    maxp: Vec<u8>,
    post: Vec<u8>,
}

const NO_SLOT: u16 = u16::MAX;

impl FontProgram {
    pub(super) fn new(font: &Sfnt) -> FontResult<Self> {
        let records = glyph_records(font)?;
        let hhea = bytes_at(font.table(b"hhea")?, 0, 36)?.to_vec();
        let long_metrics = usize::from(u16_at(&hhea, 34)?);
        let hmtx = font.table(b"hmtx")?;
        if long_metrics == 0 {
            return Err("hmtx has no metrics");
        }
        let metrics = (0..records.len())
            .map(|gid| {
                if gid < long_metrics {
                    Ok((u16_at(hmtx, 4 * gid)?, i16_at(hmtx, 4 * gid + 2)?))
                } else {
                    Ok((
                        u16_at(hmtx, 4 * (long_metrics - 1))?,
                        i16_at(hmtx, 4 * long_metrics + 2 * (gid - long_metrics))?,
                    ))
                }
            })
            .collect::<FontResult<_>>()?;
        let mut post = bytes_at(font.table(b"post")?, 0, 32)?.to_vec();
        // Version 3: no glyph names, which a subset would have to renumber.
        post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
        let mut maxp = font.table(b"maxp")?.to_vec();
        if maxp.len() >= 28 {
            // maxSizeOfInstructions: there are none left.
            maxp[26..28].copy_from_slice(&[0, 0]);
        }
        Ok(Self {
            records,
            metrics,
            head: bytes_at(font.table(b"head")?, 0, 54)?.to_vec(),
            hhea,
            maxp,
            post,
        })
    }

    /// Advance width of a glyph in font units, as the subset's `hmtx` declares it.
    pub(super) fn advance(&self, gid: u16) -> Option<u16> {
        self.metrics.get(usize::from(gid)).map(|m| m.0)
    }

    /// The glyph's outline bounding box top (font units), 0 for an empty glyph.
    pub(super) fn y_max(&self, gid: u16) -> i16 {
        self.records
            .get(usize::from(gid))
            .and_then(|r| i16_at(&r.bytes, 8).ok())
            .unwrap_or(0)
    }

    /// A font program holding `glyphs` (original ids; the first must be `.notdef`, 0) under the
    /// new ids 0, 1, 2, … in that order, followed by the components their composites refer to.
    pub(super) fn subset(&self, glyphs: &[u16]) -> Vec<u8> {
        let mut slots: Vec<u16> = glyphs.to_vec();
        let mut slot_of = vec![NO_SLOT; self.records.len()];
        for (slot, &gid) in slots.iter().enumerate() {
            if let Some(s) = slot_of.get_mut(usize::from(gid)) {
                if *s == NO_SLOT {
                    *s = slot as u16;
                }
            }
        }
        // Components are appended (and their own components after them).
        let mut i = 0;
        while i < slots.len() {
            if let Some(record) = self.records.get(usize::from(slots[i])) {
                for &(_, component) in &record.components {
                    if let Some(s) = slot_of.get_mut(usize::from(component)) {
                        if *s == NO_SLOT {
                            *s = slots.len() as u16;
                            slots.push(component);
                        }
                    }
                }
            }
            i += 1;
        }

        let mut glyf = Vec::with_capacity(slots.len() * 64);
        let mut offsets = Vec::with_capacity(slots.len() + 1);
        let mut hmtx = Vec::with_capacity(slots.len() * 4);
        for &gid in &slots {
            offsets.push(glyf.len());
            let (advance, lsb) = self
                .metrics
                .get(usize::from(gid))
                .copied()
                .unwrap_or((0, 0));
            hmtx.extend_from_slice(&advance.to_be_bytes());
            hmtx.extend_from_slice(&lsb.to_be_bytes());
            let Some(record) = self.records.get(usize::from(gid)) else {
                continue;
            };
            let start = glyf.len();
            glyf.extend_from_slice(&record.bytes);
            for &(at, component) in &record.components {
                let new = slot_of.get(usize::from(component)).copied().unwrap_or(0);
                glyf[start + at..start + at + 2].copy_from_slice(&new.to_be_bytes());
            }
            if glyf.len() % 2 == 1 {
                glyf.push(0);
            }
        }
        offsets.push(glyf.len());
        let short = glyf.len() / 2 <= usize::from(u16::MAX);
        let loca: Vec<u8> = if short {
            offsets
                .iter()
                .flat_map(|&o| ((o / 2) as u16).to_be_bytes())
                .collect()
        } else {
            offsets
                .iter()
                .flat_map(|&o| (o as u32).to_be_bytes())
                .collect()
        };

        let count = (slots.len() as u16).to_be_bytes();
        let mut head = self.head.clone();
        head[8..12].copy_from_slice(&[0; 4]);
        head[50..52].copy_from_slice(&(if short { 0u16 } else { 1 }).to_be_bytes());
        let mut hhea = self.hhea.clone();
        hhea[34..36].copy_from_slice(&count);
        let mut maxp = self.maxp.clone();
        maxp[4..6].copy_from_slice(&count);

        sfnt_file(&mut [
            (*b"glyf", &glyf),
            (*b"head", &head),
            (*b"hhea", &hhea),
            (*b"hmtx", &hmtx),
            (*b"loca", &loca),
            (*b"maxp", &maxp),
            (*b"post", &self.post),
        ])
    }
}

/// An sfnt file of `tables` (sorted by tag), with checksums and `head.checkSumAdjustment`.
fn sfnt_file(tables: &mut [([u8; 4], &Vec<u8>)]) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| *tag);
    let count = tables.len();
    let header = 12 + 16 * count;
    let total = header
        + tables
            .iter()
            .map(|(_, t)| t.len().next_multiple_of(4))
            .sum::<usize>();
    let mut out = Vec::with_capacity(total);
    let entry_selector = usize::BITS - 1 - count.leading_zeros();
    let search_range = 16 * (1usize << entry_selector);
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [
        count,
        search_range,
        entry_selector as usize,
        16 * count - search_range,
    ] {
        out.extend_from_slice(&(v as u16).to_be_bytes());
    }
    let mut offset = header;
    let mut head_at = None;
    for (tag, table) in tables.iter() {
        if tag == b"head" {
            head_at = Some(offset);
        }
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(table).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(table.len() as u32).to_be_bytes());
        offset += table.len().next_multiple_of(4);
    }
    for (_, table) in tables.iter() {
        out.extend_from_slice(table);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

/// The sfnt checksum: the sum of big-endian u32 words, the tail padded with zeros.
fn checksum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(4);
    let mut sum = chunks.by_ref().fold(0u32, |s, c| {
        s.wrapping_add(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    });
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        sum = sum.wrapping_add(u32::from_be_bytes(last));
    }
    sum
}
