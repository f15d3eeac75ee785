//! Writing a cohort's certificates ZIP into a bounded channel, a batch of certificates at a time.

use std::collections::HashMap;
use std::io::{self, Write};

use tokio::sync::mpsc;
use uuid::Uuid;
use zip::write::{PreparedZipFile, SimpleFileOptions};

use crate::certificates::{issuance, Issuer};
use crate::db::certificates as rows;
use crate::db::Db;
use crate::domain::certificates::serial_file_name;
use crate::error::AppError;

/// Certificates read, rendered (on every core) and written together: the PDFs in memory at once.
const BATCH: usize = 16;

/// Size of the chunks handed to the response.
const CHUNK: usize = 64 * 1024;

/// Chunks that may wait for a slow client before the writer waits too.
pub(super) const CHUNKS_IN_FLIGHT: usize = 4;

type Chunks = mpsc::Sender<Result<Vec<u8>, AppError>>;

/// Writes the ZIP of `listed` (id, serial), in that order, into `tx`; a failure goes into the
/// channel too, so that the stream ends with an error rather than as if the ZIP were whole.
pub(super) fn produce(
    db: &Db,
    issuer: &Issuer,
    cohort: Uuid,
    listed: &[(Uuid, String)],
    tx: Chunks,
) {
    let mut out = ChunkSender {
        tx: tx.clone(),
        buffer: Vec::with_capacity(CHUNK),
    };
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_zip(db, issuer, listed, &mut out)
    }))
    .unwrap_or_else(|_| Err(AppError::internal("writing the cohort ZIP panicked")));
    if let Err(e) = written {
        if tx.is_closed() {
            tracing::debug!(%cohort, "the client left before the cohort ZIP was complete");
        } else {
            tracing::warn!(%cohort, error = %e, "the cohort ZIP stopped part way");
            let _ = tx.blocking_send(Err(e));
        }
    }
}

fn write_zip(
    db: &Db,
    issuer: &Issuer,
    listed: &[(Uuid, String)],
    out: &mut ChunkSender,
) -> Result<(), AppError> {
    let mut zip = zip::ZipWriter::new_stream(&mut *out);
    // PDFs are compressed already: store them as they are
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for batch in listed.chunks(BATCH) {
        let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
        // a connection for each batch only: a slow download does not hold one from the pool
        let mut by_id: HashMap<Uuid, rows::StoredClaims> = {
            let mut conn = db.get()?;
            rows::stored_claims(&mut conn, &ids)?
        }
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
        let stored: Vec<rows::StoredClaims> =
            ids.iter().filter_map(|id| by_id.remove(id)).collect();
        let entries = issuance::render_each(issuer, &stored, |s, pdf| {
            PreparedZipFile::from_data(serial_file_name(&s.serial), options, &pdf?)
                .map_err(AppError::internal)
        });
        for entry in entries {
            zip.add_prepared_file(entry?).map_err(AppError::internal)?;
        }
    }
    zip.finish().map_err(AppError::internal)?;
    out.flush().map_err(AppError::internal)
}

/// Hands what the ZIP writer writes to the response in chunks, waiting while the channel is full.
struct ChunkSender {
    tx: Chunks,
    buffer: Vec<u8>,
}

impl Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}
