//! Tables as spreadsheets: CSV (UTF-8 with a byte-order mark, formula-looking cells
//! neutralised, machine column names) and XLSX (a sheet per table, Vietnamese column names in a
//! frozen bold header, numbers as numbers, shares as percentages, widths fitted to the content).

use chrono::{Datelike, NaiveDate};

use crate::error::AppError;

/// A text cell as a spreadsheet will read it: a cell that begins with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would be taken for a formula (OWASP "CSV injection"), so it gets a
/// leading apostrophe, which spreadsheets show as text. Numbers are written as they are.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    /// A fraction (1.0 = 100 %), or empty.
    Share(Option<f64>),
    Date(NaiveDate),
}

/// A column: its machine name (CSV) and its Vietnamese label (XLSX).
pub type Column = (&'static str, &'static str);

/// One table: one sheet of a workbook, or one CSV file.
#[derive(Debug, Clone)]
pub struct Table {
    pub sheet: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// The table as CSV, with the machine column names.
pub fn to_csv(table: &Table) -> Result<Vec<u8>, AppError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(table.columns.iter().map(|c| c.0))
            .map_err(AppError::internal)?;
        for row in &table.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Cell::Text(t) => spreadsheet_safe(t).into_owned(),
                    Cell::Number(n) => n.to_string(),
                    Cell::Share(Some(s)) => s.to_string(),
                    Cell::Share(None) => String::new(),
                    Cell::Date(d) => d.to_string(),
                })
                .collect();
            w.write_record(&cells).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

fn width(cell: &Cell) -> usize {
    match cell {
        Cell::Text(t) => t.chars().count(),
        Cell::Number(n) => n.to_string().len(),
        Cell::Share(_) => 7,
        Cell::Date(_) => 10,
    }
}

/// The tables as one workbook, a sheet each.
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let percent = Format::new().set_num_format("0.0%");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(table.sheet).map_err(AppError::internal)?;
        for (c, (_, label)) in table.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *label, &bold)
                .map_err(AppError::internal)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(AppError::internal)?;
        for (r, row) in table.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => sheet.write_string(r, c, t).map(|_| ()),
                    Cell::Number(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                    Cell::Share(Some(s)) => sheet
                        .write_number_with_format(r, c, *s, &percent)
                        .map(|_| ()),
                    Cell::Share(None) => Ok(()),
                    Cell::Date(d) => {
                        let when = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(AppError::internal)?;
                        sheet
                            .write_datetime_with_format(r, c, when, &date)
                            .map(|_| ())
                    }
                }
                .map_err(AppError::internal)?;
            }
        }
        for (c, (_, label)) in table.columns.iter().enumerate() {
            // a label wraps onto two lines; the content decides the rest
            let content = table
                .rows
                .iter()
                .filter_map(|row| row.get(c))
                .map(width)
                .max()
                .unwrap_or(0);
            let head = label.chars().count().div_ceil(2);
            let w = content.max(head).clamp(8, 60) + 2;
            sheet
                .set_column_width(c as u16, w as f64)
                .map_err(AppError::internal)?;
        }
    }
    book.save_to_buffer().map_err(AppError::internal)
}
