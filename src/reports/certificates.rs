//! A list of certificates as a spreadsheet: CSV (UTF-8 with a byte-order mark, formula-looking
//! cells neutralised) or XLSX (text as text, dates as dates, a frozen header).

use crate::db::views::certificates::CertificateView;
use crate::domain::labels;
use crate::error::AppError;

use super::spreadsheet_safe;

const HEADERS: [&str; 9] = [
    "Số",
    "Họ và tên",
    "Khóa bồi dưỡng",
    "Đối tượng",
    "Đơn vị cấp",
    "Ngày cấp",
    "Có giá trị đến",
    "Trạng thái",
    "Mã tra cứu",
];

/// A label as a spreadsheet cell begins: with a capital.
fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The text cells of one certificate, in the order of [`HEADERS`].
fn cells(c: &CertificateView) -> [String; 9] {
    [
        c.serial.clone(),
        c.holder.full_name.clone(),
        c.course.title.clone(),
        capitalised(labels::tier(&c.tier)),
        c.issuer.name.clone(),
        c.issued_on.format("%d/%m/%Y").to_string(),
        c.valid_until.format("%d/%m/%Y").to_string(),
        capitalised(labels::certificate_status(&c.status)),
        c.verification_code.clone(),
    ]
}

pub fn to_csv(list: &[CertificateView]) -> Result<Vec<u8>, AppError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS).map_err(AppError::internal)?;
        for c in list {
            let row = cells(c).map(|cell| spreadsheet_safe(&cell).into_owned());
            w.write_record(&row).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

pub fn to_xlsx(list: &[CertificateView]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name("Giấy chứng nhận")
        .map_err(AppError::internal)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (col, h) in HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *h, &bold)
            .map_err(AppError::internal)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(AppError::internal)?;
    for (i, c) in list.iter().enumerate() {
        let row = (i + 1) as u32;
        for (col, cell) in cells(c).iter().enumerate() {
            let col = col as u16;
            let as_date = match col {
                5 => Some(c.issued_on),
                6 => Some(c.valid_until),
                _ => None,
            };
            match as_date.and_then(|d| {
                use chrono::Datelike;
                ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
            }) {
                Some(d) => sheet
                    .write_datetime_with_format(row, col, d, &date)
                    .map(|_| ()),
                None => sheet.write_string(row, col, cell).map(|_| ()),
            }
            .map_err(AppError::internal)?;
        }
    }
    sheet.set_column_width(1, 30).map_err(AppError::internal)?;
    sheet.set_column_width(2, 40).map_err(AppError::internal)?;
    sheet.set_column_width(4, 35).map_err(AppError::internal)?;
    book.save_to_buffer().map_err(AppError::internal)
}
