//! The body text (holder, course, capability, instructors), shrunk until it fits above the date.

use super::canvas::Canvas;
use super::fitting::{LaidLine, Run, SHRINK_STEP_PT};
use super::fonts::{Face, MM_PER_PT};
use super::layout::{BODY_FIRST_BASELINE, BODY_LAST_BASELINE_MAX, BODY_LEFT, BODY_RIGHT, INK};
use super::text::{clean, dmy, upper};
use super::{CertificatePage, PdfError, Tier};

pub(super) const HOLDER_LABEL: &str = "Chứng nhận Ông (Bà): ";
pub(super) const WORKPLACE_LABEL: &str = "Đơn vị công tác: ";
pub(super) const COURSE_LABEL: &str = "Đã hoàn thành khóa bồi dưỡng: ";

/// Smallest type used for body text; below this a certificate stops being comfortably legible.
const BODY_FLOOR_PT: f32 = 8.5;

/// How the instructor lineage is set: one line each, or (when the page runs out of room) one
/// wrapped paragraph.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InstructorStyle {
    OnePerLine,
    Joined,
}

pub(super) fn draw_body(canvas: &mut Canvas, page: &CertificatePage) -> Result<(), PdfError> {
    let width = BODY_RIGHT - BODY_LEFT;
    // Try the comfortable size first, then smaller type and tighter leading until the body fits
    // above the place-and-date line.
    for style in [InstructorStyle::OnePerLine, InstructorStyle::Joined] {
        let mut size = 13.0;
        while size >= BODY_FLOOR_PT - 1e-3 {
            let leading = if size >= 12.0 { 1.55 } else { 1.4 };
            let lines = body_lines(canvas, page, size, width, style);
            let mut baselines = Vec::with_capacity(lines.len());
            let mut baseline = BODY_FIRST_BASELINE;
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    baseline += line.max_size().max(size) * leading * MM_PER_PT;
                }
                baselines.push(baseline);
            }
            if baseline <= BODY_LAST_BASELINE_MAX {
                // A short body moves down a little so the page does not look top-heavy.
                let shift = ((BODY_LAST_BASELINE_MAX - baseline) / 2.0).min(6.0);
                for (line, baseline) in lines.iter().zip(baselines) {
                    canvas.line(BODY_LEFT, baseline + shift, line, INK);
                }
                return Ok(());
            }
            size -= SHRINK_STEP_PT;
        }
    }
    Err(PdfError::DoesNotFit("body"))
}

fn body_lines(
    canvas: &Canvas,
    page: &CertificatePage,
    size: f32,
    width: f32,
    style: InstructorStyle,
) -> Vec<LaidLine> {
    let r = |text: &str| Run::new(Face::Regular, size, text);
    let floor = (size - 2.0).max(BODY_FLOOR_PT);
    let mut lines = Vec::new();

    lines.extend(canvas.labelled(
        &[r(HOLDER_LABEL)],
        (Face::Bold, &upper(&page.holder_name)),
        size + 2.0,
        floor,
        width,
        true,
    ));
    if let Some(birth) = page.holder_birth_date {
        lines.extend(canvas.paragraph(&[r("Sinh ngày: "), r(&dmy(birth))], width));
    }
    lines.extend(canvas.labelled(
        &[r(WORKPLACE_LABEL)],
        (Face::Regular, &clean(&page.holder_workplace)),
        size,
        floor,
        width,
        false,
    ));
    lines.extend(canvas.labelled(
        &[r(COURSE_LABEL)],
        (Face::Bold, &clean(&page.course_title)),
        size,
        floor,
        width,
        false,
    ));
    lines.extend(canvas.paragraph(
        &[r(&format!(
            "(chương trình {}), từ ngày {} đến ngày {}, tại {}.",
            clean(&page.curriculum_version),
            dmy(page.cohort_starts_on),
            dmy(page.cohort_ends_on),
            clean(&page.cohort_location)
        ))],
        width,
    ));
    let capability = match page.tier {
        Tier::MasterTrainer => "Đủ điều kiện làm giảng viên nguồn về tuyên truyền bảo hiểm xã hội.",
        Tier::Propagandist => "Đủ điều kiện làm tuyên truyền viên về bảo hiểm xã hội.",
    };
    lines.extend(canvas.paragraph(&[Run::new(Face::Bold, size, capability)], width));

    let lineage: Vec<String> = page
        .instructors
        .iter()
        .map(|i| {
            format!(
                "{} (GCN số {})",
                clean(&i.name),
                clean(&i.certificate_serial)
            )
        })
        .collect();
    match style {
        InstructorStyle::OnePerLine => {
            for entry in &lineage {
                lines.extend(canvas.labelled(
                    &[r("Giảng viên: ")],
                    (Face::Regular, entry),
                    size,
                    size,
                    width,
                    true,
                ));
            }
        }
        InstructorStyle::Joined if !lineage.is_empty() => {
            lines.extend(canvas.labelled(
                &[r("Giảng viên: ")],
                (Face::Regular, &lineage.join("; ")),
                size,
                size,
                width,
                true,
            ));
        }
        InstructorStyle::Joined => {}
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::pdf::fonts::fonts;
    use crate::certificates::pdf::samples::{long_sample, sample};

    #[test]
    fn body_lines_stay_inside_the_column() {
        let fonts = fonts().unwrap();
        let canvas = Canvas::new(fonts);
        let width = BODY_RIGHT - BODY_LEFT;
        let mut extreme = long_sample();
        // No spaces at all: must still be broken, between characters.
        extreme.holder_name = "Ư".repeat(120);
        for page in [sample(), long_sample(), extreme] {
            for size in [13.0, 11.5, BODY_FLOOR_PT] {
                for style in [InstructorStyle::OnePerLine, InstructorStyle::Joined] {
                    for line in body_lines(&canvas, &page, size, width, style) {
                        let right = line.indent + canvas.runs_width(&line.runs);
                        assert!(right <= width + 1e-3, "{right} > {width}: {line:?}");
                    }
                }
            }
        }
    }
}
