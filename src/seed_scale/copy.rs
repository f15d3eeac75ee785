//! Rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL, backslash escapes),
//! gathered a few megabytes at a time and sent with `COPY … FROM STDIN`.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::AppError;

/// How many bytes of rows are gathered before they are sent.
pub const FLUSH_AT: usize = 8 << 20;

/// A buffer of rows in COPY's text format.
#[derive(Default)]
pub struct Rows {
    buf: String,
    in_row: bool,
    pub count: usize,
}

impl Rows {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_full(&self) -> bool {
        self.buf.len() >= FLUSH_AT
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.in_row = false;
        self.count = 0;
    }

    fn sep(&mut self) {
        if self.in_row {
            self.buf.push('\t');
        }
        self.in_row = true;
    }

    pub fn end(&mut self) {
        self.buf.push('\n');
        self.in_row = false;
        self.count += 1;
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for c in s.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// Anything whose `Display` needs no escaping: numbers, UUIDs, dates.
    pub fn plain(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    pub fn opt_plain(&mut self, v: Option<impl std::fmt::Display>) -> &mut Self {
        match v {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    pub fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.plain(id.hyphenated())
    }

    pub fn opt_uuid(&mut self, id: Option<Uuid>) -> &mut Self {
        self.opt_plain(id.map(|i| i.hyphenated()))
    }

    pub fn date(&mut self, d: NaiveDate) -> &mut Self {
        self.plain(d.format("%Y-%m-%d"))
    }

    pub fn opt_date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        self.opt_plain(d.map(|d| d.format("%Y-%m-%d")))
    }

    pub fn instant(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.plain(t.format("%Y-%m-%d %H:%M:%S%.6f+00"))
    }

    pub fn opt_instant(&mut self, t: Option<DateTime<Utc>>) -> &mut Self {
        self.opt_plain(t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f+00")))
    }

    /// A `bytea` in hex form; its backslash escaped for the text format.
    pub fn bytes_hex(&mut self, b: &[u8]) -> &mut Self {
        self.sep();
        self.buf.push_str("\\\\x");
        for byte in b {
            let _ = write!(self.buf, "{byte:02x}");
        }
        self
    }
}

/// Makes the rows on a thread of its own while this one sends the previous batch: signing
/// claims and formatting rows on one core, PostgreSQL taking them on the other. A failed send
/// stops the maker (its channel closes).
pub fn pipelined<T: Send>(
    make: impl FnOnce(std::sync::mpsc::SyncSender<T>) + Send,
    mut send: impl FnMut(T) -> Result<(), AppError>,
) -> Result<(), AppError> {
    std::thread::scope(|scope| {
        let (to_sender, batches) = std::sync::mpsc::sync_channel(2);
        let maker = scope.spawn(move || make(to_sender));
        let mut result = Ok(());
        for batch in batches.iter() {
            if let Err(e) = send(batch) {
                result = Err(e);
                break;
            }
        }
        drop(batches);
        if let Err(panic) = maker.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}

/// Sends the rows to `COPY table (columns) FROM STDIN` and empties the buffer.
#[macro_export]
#[doc(hidden)]
macro_rules! copy_rows {
    ($conn:expr, $table:expr, $columns:expr, $rows:expr) => {{
        let rows: &mut $crate::seed_scale::copy::Rows = $rows;
        let n = if rows.is_empty() {
            0
        } else {
            let data = rows.bytes();
            diesel::ExecuteCopyFromDsl::execute(
                diesel::copy_from($table).from_raw_data(
                    $columns,
                    |w: &mut dyn std::io::Write| -> Result<(), diesel::result::Error> {
                        w.write_all(data)
                            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
                    },
                ),
                $conn,
            )?
        };
        rows.clear();
        n
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_escape_what_copy_treats_specially() {
        let mut rows = Rows::new();
        rows.text("a\tb\\c\nd").null().plain(42);
        rows.end();
        assert_eq!(rows.bytes(), b"a\\tb\\\\c\\nd\t\\N\t42\n");
        assert_eq!(rows.count, 1);
    }

    #[test]
    fn bytea_is_hex_with_an_escaped_backslash() {
        let mut rows = Rows::new();
        rows.bytes_hex(&[0, 255]);
        rows.end();
        assert_eq!(rows.bytes(), b"\\\\x00ff\n");
    }
}
