//! A face's TrueType program cut down to the glyphs one certificate shows. The outlines are read
//! and stripped of hinting once per process; a certificate's subset is then a copy of the records
//! it needs with their component ids renumbered, and a handful of small tables.

use super::sfnt::{bytes_at, glyph_records, i16_at, u16_at, FontResult, GlyphRecord, Sfnt};
use super::syntax::{adler32, deflate_raw};

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

    /// The part of every subset that holds `glyphs` (original ids; the first must be `.notdef`,
    /// 0): the glyphs every certificate shows, under the new ids 0, 1, 2, … in that order,
    /// followed by the components their composites refer to. Its outlines are compressed here,
    /// once.
    pub(super) fn fixed_part(&self, glyphs: &[u16]) -> FixedPart {
        let mut slots = glyphs.to_vec();
        let mut slot_of = vec![NO_SLOT; self.records.len()];
        self.place(&mut slots, &mut slot_of, 0);
        let mut glyf = Vec::new();
        let mut offsets = Vec::with_capacity(slots.len());
        self.write_records(&slots, &slot_of, &mut glyf, &mut offsets);
        // Four-byte aligned, so the table's checksum is the sum of both parts'.
        glyf.resize(glyf.len().next_multiple_of(4), 0);
        let mut deflated = Vec::new();
        deflate_raw(&mut deflated, &glyf, false, &[]);
        FixedPart {
            checksum: checksum(&glyf),
            slots,
            slot_of,
            glyf,
            offsets,
            deflated,
        }
    }

    /// Gives each glyph of `slots[from..]` its slot, then appends the components their
    /// composites refer to (and theirs) that have none yet.
    fn place(&self, slots: &mut Vec<u16>, slot_of: &mut [u16], from: usize) {
        for (slot, &gid) in slots.iter().enumerate().skip(from) {
            if let Some(s) = slot_of.get_mut(usize::from(gid)) {
                if *s == NO_SLOT {
                    *s = slot as u16;
                }
            }
        }
        let mut i = from;
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
    }

    /// Appends the records of `slots` to `glyf`, components renumbered, each padded to an even
    /// length, and their offsets.
    fn write_records(
        &self,
        slots: &[u16],
        slot_of: &[u16],
        glyf: &mut Vec<u8>,
        offsets: &mut Vec<usize>,
    ) {
        for &gid in slots {
            offsets.push(glyf.len());
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
    }

    /// A certificate's font program, as a zlib (`/FlateDecode`) stream, and its length
    /// uncompressed: the fixed part, then `glyphs` (original ids) under the ids that follow it,
    /// in that order, then the components they need that the fixed part lacks.
    ///
    /// The outlines come right after the table directory, the fixed part's first, so their
    /// compressed bytes are reused as they are: the directory goes in as a stored block, and
    /// only the added outlines and the small tables after them are compressed here, as the last
    /// piece of the same deflate stream (free to refer back to the fixed outlines).
    pub(super) fn subset(&self, fixed: &FixedPart, glyphs: &[u16]) -> (Vec<u8>, usize) {
        let mut slots = fixed.slots.clone();
        slots.extend_from_slice(glyphs);
        let mut slot_of = fixed.slot_of.clone();
        self.place(&mut slots, &mut slot_of, fixed.slots.len());
        let added = &slots[fixed.slots.len()..];
        // Everything after the fixed outlines: the added outlines, then the other tables.
        let mut rest = Vec::with_capacity(added.len() * 64 + slots.len() * 8 + 256);
        let mut added_offsets = Vec::with_capacity(added.len());
        self.write_records(added, &slot_of, &mut rest, &mut added_offsets);
        let glyf_len = fixed.glyf.len() + rest.len();
        let glyf_sum = fixed.checksum.wrapping_add(checksum(&rest));
        rest.resize(rest.len().next_multiple_of(4), 0);

        let mut offsets = fixed.offsets.clone();
        // The added records follow the fixed part's.
        offsets.extend(added_offsets.iter().map(|o| o + fixed.glyf.len()));
        offsets.push(glyf_len);
        let short = glyf_len / 2 <= usize::from(u16::MAX);
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
        let hmtx: Vec<u8> = slots
            .iter()
            .flat_map(|&gid| {
                let (advance, lsb) = self
                    .metrics
                    .get(usize::from(gid))
                    .copied()
                    .unwrap_or((0, 0));
                let [a, b] = advance.to_be_bytes();
                let [c, d] = lsb.to_be_bytes();
                [a, b, c, d]
            })
            .collect();
        let count = (slots.len() as u16).to_be_bytes();
        let mut head = self.head.clone();
        head[8..12].copy_from_slice(&[0; 4]);
        head[50..52].copy_from_slice(&(if short { 0u16 } else { 1 }).to_be_bytes());
        let mut hhea = self.hhea.clone();
        hhea[34..36].copy_from_slice(&count);
        let mut maxp = self.maxp.clone();
        maxp[4..6].copy_from_slice(&count);

        // The tables in file order: directory, glyf, then the rest (sorted by tag in the
        // directory, as the format asks).
        let tables: [([u8; 4], &[u8]); 6] = [
            (*b"head", &head),
            (*b"hhea", &hhea),
            (*b"hmtx", &hmtx),
            (*b"loca", &loca),
            (*b"maxp", &maxp),
            (*b"post", &self.post),
        ];
        let directory_len = 12 + 16 * (tables.len() + 1);
        let mut records = Vec::with_capacity(tables.len() + 1);
        records.push((*b"glyf", glyf_sum, directory_len, glyf_len));
        let mut offset = directory_len + glyf_len.next_multiple_of(4);
        let mut head_at = 0;
        for (tag, table) in &tables {
            if tag == b"head" {
                head_at = rest.len();
            }
            records.push((*tag, checksum(table), offset, table.len()));
            offset += table.len().next_multiple_of(4);
            rest.extend_from_slice(table);
            rest.resize(rest.len().next_multiple_of(4), 0);
        }
        let directory = table_directory(&mut records);
        let file_sum = checksum(&directory)
            .wrapping_add(fixed.checksum)
            .wrapping_add(checksum(&rest));
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(file_sum);
        rest[head_at + 8..head_at + 12].copy_from_slice(&adjustment.to_be_bytes());

        let length = directory.len() + fixed.glyf.len() + rest.len();
        let mut stream = Vec::with_capacity(fixed.deflated.len() + rest.len() + 256);
        // zlib: deflate with a 32 KB window, default compression.
        stream.extend_from_slice(&[0x78, 0x9C]);
        stored_block(&mut stream, &directory);
        stream.extend_from_slice(&fixed.deflated);
        let mut before = directory.clone();
        before.extend_from_slice(&fixed.glyf);
        deflate_raw(&mut stream, &rest, true, &before);
        let adler = adler32(adler32(1, &before), &rest);
        stream.extend_from_slice(&adler.to_be_bytes());
        (stream, length)
    }
}

/// A deflate stored block (not final) holding `data`, which is under 64 KB; the stream is
/// byte-aligned before and after it.
fn stored_block(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len() as u16;
    out.push(0);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
}

/// The first glyphs of every subset of a face, with their outlines compressed.
pub(super) struct FixedPart {
    slots: Vec<u16>,
    slot_of: Vec<u16>,
    /// Their outlines, padded to four bytes.
    glyf: Vec<u8>,
    offsets: Vec<usize>,
    /// `glyf` as raw deflate data ending in a sync flush.
    deflated: Vec<u8>,
    checksum: u32,
}

impl FixedPart {
    /// Number of glyph ids the fixed part takes (`.notdef`, the fixed glyphs, their components).
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }
}

/// An sfnt table directory of `(tag, checksum, offset, length)` records, sorted by tag here.
fn table_directory(records: &mut [([u8; 4], u32, usize, usize)]) -> Vec<u8> {
    records.sort_by_key(|r| r.0);
    let count = records.len();
    let mut out = Vec::with_capacity(12 + 16 * count);
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
    for (tag, sum, offset, len) in records.iter() {
        out.extend_from_slice(tag);
        out.extend_from_slice(&sum.to_be_bytes());
        out.extend_from_slice(&(*offset as u32).to_be_bytes());
        out.extend_from_slice(&(*len as u32).to_be_bytes());
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
