//! Reading one TrueType face: the tables a PDF font program is rebuilt from, and its glyph outlines
//! with the hinting instructions taken out.

/// A malformed or unexpected font; the text says where.
pub(super) type FontResult<T> = Result<T, &'static str>;

/// The table directory of an sfnt file.
pub(super) struct Sfnt<'a> {
    tables: Vec<([u8; 4], &'a [u8])>,
}

impl<'a> Sfnt<'a> {
    pub(super) fn parse(data: &'a [u8]) -> FontResult<Self> {
        if u32_at(data, 0)? != 0x0001_0000 {
            return Err("not a TrueType font (glyf outlines)");
        }
        let count = usize::from(u16_at(data, 4)?);
        let mut tables = Vec::with_capacity(count);
        for i in 0..count {
            let record = 12 + 16 * i;
            let tag = bytes_at(data, record, 4)?;
            let offset = u32_at(data, record + 8)? as usize;
            let length = u32_at(data, record + 12)? as usize;
            tables.push((
                [tag[0], tag[1], tag[2], tag[3]],
                bytes_at(data, offset, length)?,
            ));
        }
        Ok(Self { tables })
    }

    pub(super) fn table(&self, tag: &[u8; 4]) -> FontResult<&'a [u8]> {
        self.tables
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, bytes)| *bytes)
            .ok_or("a required table is missing")
    }
}

/// One glyph's outline as it goes into a subset: the record without instructions, and where in
/// it the glyph ids of its components sit (they are renumbered in every subset).
#[derive(Debug, Clone, Default)]
pub(super) struct GlyphRecord {
    pub(super) bytes: Vec<u8>,
    /// `(offset of the component's glyph id in bytes, original glyph id)`.
    pub(super) components: Vec<(usize, u16)>,
}

/// The glyph records of every glyph in the face, hinting stripped.
///
/// Hinting (the `fpgm`/`prep`/`cvt ` programs and per-glyph instructions) only sharpens small
/// sizes on low-resolution screens; PDF viewers and printers render without it, and it is about
/// half the bytes of DejaVu's outlines.
pub(super) fn glyph_records(font: &Sfnt) -> FontResult<Vec<GlyphRecord>> {
    let head = font.table(b"head")?;
    let glyf = font.table(b"glyf")?;
    let loca = font.table(b"loca")?;
    let num_glyphs = usize::from(u16_at(font.table(b"maxp")?, 4)?);
    let long = i16_at(head, 50)? != 0;
    let offset = |gid: usize| -> FontResult<usize> {
        Ok(if long {
            u32_at(loca, 4 * gid)? as usize
        } else {
            2 * usize::from(u16_at(loca, 2 * gid)?)
        })
    };
    (0..num_glyphs)
        .map(|gid| {
            let (start, end) = (offset(gid)?, offset(gid + 1)?);
            if end < start {
                return Err("glyph offsets out of order");
            }
            strip(bytes_at(glyf, start, end - start)?)
        })
        .collect()
}

/// The record without hinting instructions, cut to its exact length.
fn strip(record: &[u8]) -> FontResult<GlyphRecord> {
    if record.is_empty() {
        return Ok(GlyphRecord::default());
    }
    let contours = i16_at(record, 0)?;
    if contours >= 0 {
        strip_simple(record, contours as usize)
    } else {
        strip_composite(record)
    }
}

fn strip_simple(record: &[u8], contours: usize) -> FontResult<GlyphRecord> {
    const REPEAT: u8 = 0x08;
    let header = 10 + 2 * contours;
    let points = match contours {
        0 => 0,
        n => usize::from(u16_at(record, 10 + 2 * (n - 1))?) + 1,
    };
    let instructions = usize::from(u16_at(record, header)?);
    let flags_start = header + 2 + instructions;
    // Walk the flags to learn how many bytes the x and y coordinates take.
    let (mut at, mut seen, mut x_len, mut y_len) = (flags_start, 0, 0, 0);
    while seen < points {
        let flag = *record.get(at).ok_or("glyph flags run past the record")?;
        at += 1;
        let mut times = 1;
        if flag & REPEAT != 0 {
            times += usize::from(*record.get(at).ok_or("glyph flags run past the record")?);
            at += 1;
        }
        x_len += times * coordinate_len(flag, 0x02, 0x10);
        y_len += times * coordinate_len(flag, 0x04, 0x20);
        seen += times;
    }
    let end = at + x_len + y_len;
    if end > record.len() {
        return Err("glyph coordinates run past the record");
    }
    let mut bytes = Vec::with_capacity(end - instructions);
    bytes.extend_from_slice(&record[..header]);
    bytes.extend_from_slice(&[0, 0]);
    bytes.extend_from_slice(&record[flags_start..end]);
    Ok(GlyphRecord {
        bytes,
        components: Vec::new(),
    })
}

/// Bytes one coordinate takes: one if short, none if repeated from the previous point, else two.
fn coordinate_len(flag: u8, short: u8, same_or_positive: u8) -> usize {
    if flag & short != 0 {
        1
    } else if flag & same_or_positive != 0 {
        0
    } else {
        2
    }
}

fn strip_composite(record: &[u8]) -> FontResult<GlyphRecord> {
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAS_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAS_XY_SCALE: u16 = 0x0040;
    const HAS_2X2: u16 = 0x0080;
    const HAS_INSTRUCTIONS: u16 = 0x0100;
    let mut bytes = record.to_vec();
    let mut components = Vec::new();
    let mut at = 10;
    loop {
        let flags = u16_at(record, at)?;
        components.push((at + 2, u16_at(record, at + 2)?));
        bytes[at..at + 2].copy_from_slice(&(flags & !HAS_INSTRUCTIONS).to_be_bytes());
        at += 4;
        at += if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & HAS_SCALE != 0 {
            2
        } else if flags & HAS_XY_SCALE != 0 {
            4
        } else if flags & HAS_2X2 != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    if at > record.len() {
        return Err("composite glyph runs past the record");
    }
    bytes.truncate(at);
    Ok(GlyphRecord { bytes, components })
}

pub(super) fn bytes_at(data: &[u8], at: usize, len: usize) -> FontResult<&[u8]> {
    data.get(at..at.checked_add(len).ok_or("offset overflow")?)
        .ok_or("a table or record runs past the end of the font")
}

pub(super) fn u16_at(data: &[u8], at: usize) -> FontResult<u16> {
    let b = bytes_at(data, at, 2)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

pub(super) fn i16_at(data: &[u8], at: usize) -> FontResult<i16> {
    u16_at(data, at).map(|v| v as i16)
}

pub(super) fn u32_at(data: &[u8], at: usize) -> FontResult<u32> {
    let b = bytes_at(data, at, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
