//! Evidence from and to spreadsheets: CSV and XLSX, one observation per row.
//!
//! A commissioner's office keeps its evidence in Excel. A sheet is read into the same JSON
//! evidence document a person would have written, and that document goes through the one
//! evidence loader: every source of evidence gets the same checks and the same messages. What
//! the loader reports at a JSON path (`$.observations[6].date`) is reported at the cell it came
//! from (`sheet Observations, row 8, column date`). The library reads bytes, never files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use chrono::NaiveDate;
use serde_json::{json, Map, Value as J};

use crate::diagnostic::{did_you_mean, Diagnostic, Limits};
use crate::evidence::{Evidence, OBSERVATION_FIELDS};
use crate::pack::{LoadError, Pack, SourceFile};
use crate::vocabulary::{Scope, ValueType};

/// The widest evidence sheet read: more columns than any observation has fields is a wrong file
/// (or a hostile one), not evidence.
pub const MAX_COLUMNS: usize = 64;

/// The most bytes an XLSX workbook may unpack to, as its zip directory declares: a small file
/// that unpacks to gigabytes (a zip bomb) is refused before anything is unpacked.
pub const MAX_UNPACKED_BYTES: u64 = 512 * 1024 * 1024;

/// One cell, as the sheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text (trimmed).
    Text(String),
    /// A number.
    Number(f64),
    /// A number the workbook shows as a percentage: `Percent(0.25)` shows `25%`.
    Percent(f64),
    /// `TRUE` or `FALSE` typed as a boolean cell.
    Bool(bool),
    /// A date cell.
    Date(NaiveDate),
    /// A cell showing an error (`#REF!`, `#DIV/0!`).
    Error(String),
}

impl Cell {
    fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty) || matches!(self, Cell::Text(t) if t.is_empty())
    }

    fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => crate::vocabulary::format_number(*n),
            Cell::Percent(n) => format!(
                "{}%",
                crate::vocabulary::format_number((n * 100.0 * 1e12).round() / 1e12)
            ),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A sheet's rows, each with its row number in the sheet (1-based, as the spreadsheet shows).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file, as the caller names it.
    pub file: String,
    /// The sheet's name (a CSV has none).
    pub sheet: Option<String>,
    /// Rows with their numbers; blank rows are kept out.
    pub rows: Vec<(u32, Vec<Cell>)>,
    /// For a CSV, the line of the file a row starts on, where that is not the row's number: a
    /// quoted cell with line breaks is one row of the spreadsheet over several lines of the file.
    pub lines: BTreeMap<u32, u32>,
}

impl Table {
    fn at(&self, row: u32, column: usize, column_name: Option<&str>, message: String) -> Diagnostic {
        let column_words = match column_name {
            Some(name) => format!("column {name}"),
            None => format!("column {}", column_letters(column)),
        };
        self.at_words(row, column, &column_words, message)
    }

    /// A problem at a row, the place in it said in words (`column date`, `the row`).
    fn at_words(&self, row: u32, column: usize, column_words: &str, message: String) -> Diagnostic {
        let sheet = self
            .sheet
            .as_ref()
            .map(|s| format!("sheet {s}, "))
            .unwrap_or_default();
        Diagnostic {
            file: self.file.clone(),
            line: self.lines.get(&row).copied().unwrap_or(row),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
            path: String::new(),
            message: format!("{sheet}row {row}, {column_words}: {message}"),
        }
    }

    fn whole(&self, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line: 1,
            column: 1,
            path: String::new(),
            message: match &self.sheet {
                Some(s) => format!("sheet {s}: {message}"),
                None => message,
            },
        }
    }
}

/// `A`, `B`, … `Z`, `AA`: how a spreadsheet names a column.
fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

fn file_problem(file: &str, message: String) -> LoadError {
    LoadError::new(vec![Diagnostic {
        file: file.to_string(),
        line: 1,
        column: 1,
        path: String::new(),
        message,
    }])
}

/// Reads a CSV file: a byte-order mark is skipped, `;` is the separator when the header row has
/// more of them than commas (Excel in much of Europe), blank rows are left out.
pub fn read_csv(file: &str, bytes: &[u8], limits: Limits) -> Result<Table, LoadError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(file_problem(
            file,
            format!(
                "the file is {} bytes; the limit is {} (raise it with `--max-input-bytes`)",
                bytes.len(),
                limits.max_input_bytes
            ),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes
            .get(..at)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1;
        LoadError::new(vec![Diagnostic {
            file: file.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
            path: String::new(),
            message: format!(
                "row {line}: the file is not valid UTF-8 (bad byte at offset {at}); save it as CSV UTF-8"
            ),
        }])
    })?;
    let header_line = text
        .split(['\n', '\r'])
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let separator = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = BTreeMap::new();
    // Line breaks inside quoted cells so far: a spreadsheet shows each record as one row.
    let mut inside: usize = 0;
    // Line breaks before byte `counted_to`.
    let (mut counted_to, mut counted_lines) = (0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line());
            file_problem(file, format!("row {line}: {e}"))
        })?;
        // The row's first line, counted from the bytes before it (a quoted cell may hold line
        // breaks, so record counts are not line numbers).
        let mut start = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        // The position may sit on the line break that ended the previous row.
        while text
            .as_bytes()
            .get(start)
            .is_some_and(|c| *c == b'\n' || *c == b'\r')
        {
            start += 1;
        }
        // Counted on from the previous row, never from the top: a long file is read in time
        // linear in its size.
        if start > counted_to {
            counted_lines += line_breaks(text.as_bytes(), counted_to, start);
            counted_to = start;
        }
        let line = counted_lines + 1;
        let row = line.saturating_sub(inside).max(1);
        inside += record
            .iter()
            .map(|c| line_breaks(c.as_bytes(), 0, c.len()))
            .sum::<usize>();
        if record.len() > MAX_COLUMNS {
            return Err(file_problem(
                file,
                format!(
                    "row {row} has {} columns; an evidence sheet has at most {MAX_COLUMNS} (a fixed limit: it has one column per observation field; delete the others)",
                    record.len()
                ),
            ));
        }
        let cells: Vec<Cell> = record
            .iter()
            .map(|c| {
                let t = c.trim();
                // A quote mark before a formula-like text is the spreadsheet's "this is text"
                // marker (and what exports write), not part of the value: one is taken away,
                // even where the text had marks of its own (`''=x` is the text `'=x`).
                let t = match t.strip_prefix('\'') {
                    Some(rest) if formula_like(rest.trim_start_matches('\'')) => rest,
                    _ => t,
                };
                if t.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(t.to_string())
                }
            })
            .collect();
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        if rows.len() > limits.max_observations {
            return Err(file_problem(
                file,
                format!(
                    "the sheet has more than {} rows; the limit is {} observations (raise it with `--max-observations`)",
                    limits.max_observations, limits.max_observations
                ),
            ));
        }
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        if row != u32::try_from(line).unwrap_or(u32::MAX) {
            lines.insert(row, u32::try_from(line).unwrap_or(u32::MAX));
        }
        rows.push((row, cells));
    }
    Ok(Table {
        file: file.to_string(),
        sheet: None,
        rows,
        lines,
    })
}

/// Line breaks among `bytes[from..to]`: a line feed, or a carriage return not followed by one
/// (rows ended by `\r` alone, as Excel for Mac's "CSV (Macintosh)" writes them).
fn line_breaks(bytes: &[u8], from: usize, to: usize) -> usize {
    (from..to.min(bytes.len()))
        .filter(|&i| match bytes.get(i) {
            Some(b'\n') => true,
            Some(b'\r') => bytes.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count()
}

/// The sheets of an XLSX workbook, in workbook order.
pub fn xlsx_sheet_names(file: &str, bytes: &[u8]) -> Result<Vec<String>, LoadError> {
    use calamine::Reader;
    let workbook = open_xlsx(file, bytes, Limits::default())?;
    Ok(workbook.sheet_names())
}

fn open_xlsx<'b>(
    file: &str,
    bytes: &'b [u8],
    limits: Limits,
) -> Result<calamine::Xlsx<Cursor<&'b [u8]>>, LoadError> {
    use calamine::Reader;
    if bytes.len() > limits.max_input_bytes {
        return Err(file_problem(
            file,
            format!(
                "the file is {} bytes; the limit is {} (raise it with `--max-input-bytes`)",
                bytes.len(),
                limits.max_input_bytes
            ),
        ));
    }
    let unreadable = |why: String| {
        file_problem(
            file,
            format!("not a readable .xlsx workbook ({why}); a password-protected or damaged workbook cannot be read: save an unprotected copy as .xlsx"),
        )
    };
    // The zip directory is read first, and the workbook refused if it declares more than it may
    // unpack to: nothing is unpacked from a zip bomb.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| unreadable(e.to_string()))?;
        unpacked = unpacked.saturating_add(entry.size());
    }
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(file_problem(
            file,
            format!(
                "the workbook unpacks to {unpacked} bytes; at most {MAX_UNPACKED_BYTES} are read (a file this small that unpacks this large is not evidence)"
            ),
        ));
    }
    calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))
}

/// Reads one sheet of an XLSX workbook (`sheet`, or the first); formulas give their cached
/// values, date cells dates.
pub fn read_xlsx(file: &str, bytes: &[u8], sheet: Option<&str>, limits: Limits) -> Result<Table, LoadError> {
    use calamine::{Data, Reader};
    let mut workbook = open_xlsx(file, bytes, limits)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(s) => {
            if !names.iter().any(|n| n == s) {
                let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
                return Err(file_problem(
                    file,
                    format!(
                        "the workbook has no sheet `{s}`{}; its sheets: {}",
                        did_you_mean(s, &candidates),
                        crate::diagnostic::ticked(&candidates, ", ")
                    ),
                ));
            }
            s.to_string()
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| file_problem(file, "the workbook has no sheets".into()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| file_problem(file, format!("sheet {name}: cannot be read: {e}")))?;
    if range.width() > MAX_COLUMNS {
        return Err(file_problem(
            file,
            format!(
                "sheet {name} has {} columns; an evidence sheet has at most {MAX_COLUMNS} (a fixed limit: it has one column per observation field; delete the others)",
                range.width()
            ),
        ));
    }
    if range.height() > limits.max_observations.saturating_add(1) {
        return Err(file_problem(
            file,
            format!(
                "sheet {name} has {} rows; the limit is {} observations (raise it with `--max-observations`)",
                range.height(),
                limits.max_observations
            ),
        ));
    }
    let epoch_1904 = workbook.has_1904_epoch();
    // A number shown as a percentage holds 0.25 for `25%`: which it is must be known, for only a
    // share may be written so.
    let styles = workbook
        .worksheet_style(&name)
        .map_err(|e| file_problem(file, format!("sheet {name}: cannot be read: {e}")))?;
    let percent_at = |row: u32, column: u32| {
        styles
            .get((row, column))
            .and_then(|s| s.number_format.as_ref())
            .is_some_and(|f| shows_percent(&f.format_code))
    };
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let at_row = first_row.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let mut cells: Vec<Cell> = vec![Cell::Empty; usize::try_from(first_column).unwrap_or(0)];
        cells.extend(row.iter().enumerate().map(|(j, c)| {
            let at_column = first_column.saturating_add(u32::try_from(j).unwrap_or(u32::MAX));
            match c {
                Data::Empty => Cell::Empty,
                Data::String(s) => {
                    let t = s.trim();
                    if t.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(t.to_string())
                    }
                }
                Data::Float(f) if percent_at(at_row, at_column) => Cell::Percent(*f),
                Data::Float(f) => Cell::Number(*f),
                #[expect(clippy::cast_precision_loss, reason = "a count in a cell is far below 2^53")]
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Bool(b) => Cell::Bool(*b),
                Data::DateTime(dt) => date_time_cell(dt, epoch_1904),
                Data::DateTimeIso(s) => s
                    .get(..10)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .map_or_else(|| Cell::Text(s.clone()), Cell::Date),
                Data::DurationIso(s) => Cell::Text(s.clone()),
                Data::Error(e) => Cell::Error(format!("{e}")),
            }
        }));
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        let number = at_row.saturating_add(1);
        rows.push((number, cells));
    }
    Ok(Table {
        file: file.to_string(),
        sheet: Some(name),
        rows,
        lines: BTreeMap::new(),
    })
}

/// Whether a number format shows a percentage: a `%` outside quoted text, escapes and brackets.
fn shows_percent(code: &str) -> bool {
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => return true,
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '[' => {
                for q in chars.by_ref() {
                    if q == ']' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            _ => {}
        }
    }
    false
}

/// A cell Excel formats as a date or time. A serial below 1 holds no day of the calendar (a time
/// of day, or Excel's day 0, `1900-01-00`; in a workbook counting from 1904, a time of day too),
/// and serial 60 is the 29 February 1900 Excel counts but
/// the calendar never had: these are read as the text the cell shows, never as a day, so a date
/// column refuses them rather than reading 31 December 1899.
fn date_time_cell(dt: &calamine::ExcelDateTime, epoch_1904: bool) -> Cell {
    let serial = dt.as_f64();
    let time = |serial: f64| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative finite count of minutes, rounded"
        )]
        let minutes = (serial * 24.0 * 60.0).round().max(0.0) as u64;
        format!("{}:{:02}", minutes / 60, minutes % 60)
    };
    if !serial.is_finite() || serial < 0.0 {
        return Cell::Text(crate::vocabulary::format_number(serial));
    }
    if dt.is_duration() {
        return Cell::Text(time(serial));
    }
    if serial < 1.0 {
        return Cell::Text(if serial == 0.0 && !epoch_1904 {
            "1900-01-00".to_string()
        } else {
            format!("{:0>5}", time(serial))
        });
    }
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
        .map_or_else(|| Cell::Text(format!("{y:04}-{m:02}-{d:02}")), Cell::Date)
}

/// What an evidence file says about itself, beside its observations: a workbook keeps it on an
/// *About* sheet (`field`, `value` rows), so a round trip through a workbook loses nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct About {
    /// The council.
    pub council: String,
    /// A title.
    pub title: Option<String>,
    /// The as-of date.
    pub as_of: Option<NaiveDate>,
    /// Read from an *About* sheet, which says what the evidence says: no title there is no title,
    /// where a sheet without one is titled by its file and sheet name.
    pub from_sheet: bool,
}

/// Reads a workbook's *About* sheet, if it has one headed `field` and `value` (as exports write).
pub fn read_about(file: &str, bytes: &[u8], limits: Limits) -> Result<Option<About>, LoadError> {
    if !xlsx_sheet_names(file, bytes)?.iter().any(|n| n == "About") {
        return Ok(None);
    }
    let table = read_xlsx(file, bytes, Some("About"), limits)?;
    // Only the sheet an export writes, headed `field` and `value`: an office's own About sheet
    // (notes on the workbook) is no concern of the evidence.
    let ours = table.rows.first().is_some_and(|(_, header)| {
        let words: Vec<String> = header
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| c.shown().to_lowercase())
            .collect();
        words == ["field", "value"]
    });
    if !ours {
        return Ok(None);
    }
    let mut about = About {
        from_sheet: true,
        ..About::default()
    };
    let mut problems = Vec::new();
    for (row, cells) in table.rows.iter().skip(1) {
        let field = cells.first().map(Cell::shown).unwrap_or_default();
        let value = cells.get(1).cloned().unwrap_or(Cell::Empty);
        match field.as_str() {
            "council" => about.council = value.shown(),
            "title" => about.title = Some(value.shown()).filter(|t| !t.is_empty()),
            "as_of" if !value.is_empty() => match date_cell(&value) {
                Ok(d) => about.as_of = crate::diagnostic::parse_date(&d).ok(),
                Err(m) => problems.push(table.at(*row, 1, Some("value"), m)),
            },
            "as_of" => {}
            other => problems.push(table.at(
                *row,
                0,
                Some("field"),
                format!("unknown field `{other}`; the About sheet has `council`, `title` and `as_of`"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(LoadError::new(problems));
    }
    Ok(Some(about))
}

/// The columns an evidence sheet may have, beyond the observation fields written as they are:
/// `source` and `passage` make the `source` object, `from` and `to` the `period`.
const SHEET_COLUMNS: &[&str] = &["source", "passage", "from", "to"];

/// The columns of an evidence sheet, in the order templates and exports write them.
pub fn columns() -> Vec<&'static str> {
    let mut out = vec!["id", "key", "function", "value", "date", "from", "to"];
    for f in OBSERVATION_FIELDS {
        if !out.contains(f) && !["source", "period"].contains(f) {
            out.push(f);
        }
    }
    out.extend(["source", "passage"]);
    out
}

/// Reads a sheet of observations into evidence, checked against the pack by the evidence loader.
/// Every problem is reported at its cell, all at once.
///
/// ```
/// use handback::spreadsheet::{evidence_from_table, read_csv, About};
///
/// let pack = handback::default_pack()?;
/// let csv = "id,key,function,value,date,source,passage\n\
///            mtfs,children.mtfs_adopted,,TRUE,2016-03-01,Minutes,item 4\n\
///            agency,children.agency_share,,forty,2016-03-01,Workforce report,table 2\n";
/// let table = read_csv("evidence.csv", csv.as_bytes(), Default::default())?;
/// let about = About { council: "Example Council".into(), title: None, as_of: None, from_sheet: false };
/// // The share was written in words: refused at its cell, row 3, column D.
/// let error = evidence_from_table(&pack, &table, &about, Default::default()).unwrap_err();
/// assert_eq!((error.diagnostics.0[0].line, error.diagnostics.0[0].column), (3, 4));
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn evidence_from_table(
    pack: &Pack,
    table: &Table,
    about: &About,
    limits: Limits,
) -> Result<Evidence, LoadError> {
    let (document, cells, mut problems) = document_from_table(pack, table, about)?;
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    let source = SourceFile {
        name: table.file.clone(),
        label: table.file.clone(),
        text,
    };
    // Rows with a cell that could not be read were kept out of the document; the loader checks
    // the rest, so one run reports every bad cell.
    match Evidence::load_with_limits(pack, &source, limits) {
        Ok(evidence) if problems.is_empty() => Ok(evidence),
        Ok(_) => Err(LoadError::new(problems)),
        Err(e) => {
            let ids = rows_by_id(&document, &cells);
            problems.extend(
                e.diagnostics
                    .0
                    .into_iter()
                    .map(|d| relocate(table, &cells, &ids, d)),
            );
            Err(LoadError::new(problems))
        }
    }
}

/// Runs a check made for JSON evidence (lint's warnings, its check of quoted passages against
/// their sources) on the document a valid sheet stands for, and reports what it finds at the
/// cells: a sheet is checked as its JSON would be. A sheet that does not load gives nothing here;
/// [`evidence_from_table`] reports why.
pub fn check_as_json(
    pack: &Pack,
    table: &Table,
    about: &About,
    check: impl FnOnce(&SourceFile) -> Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let Ok((document, cells, problems)) = document_from_table(pack, table, about) else {
        return Vec::new();
    };
    if !problems.is_empty() {
        return Vec::new();
    }
    let source = SourceFile {
        name: table.file.clone(),
        label: table.file.clone(),
        text: serde_json::to_string_pretty(&document).unwrap_or_default(),
    };
    let ids = rows_by_id(&document, &cells);
    check(&source)
        .into_iter()
        .map(|d| relocate(table, &cells, &ids, d))
        .collect()
}

/// The row each observation of the document came from, by its id.
fn rows_by_id(document: &J, cells: &Cells) -> BTreeMap<String, u32> {
    document
        .get("observations")
        .and_then(J::as_array)
        .map(|observations| {
            observations
                .iter()
                .zip(cells)
                .filter_map(|(o, (row, _))| Some((o.get("id")?.as_str()?.to_string(), *row)))
                .collect()
        })
        .unwrap_or_default()
}

/// Names the row beside each observation id a message quotes (`` `row-1a2b` (row 7) ``): an id
/// made from a row's content is nowhere in the sheet to be found.
fn name_rows(message: &str, ids: &BTreeMap<String, u32>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted: Option<String> = None;
    for c in message.chars() {
        match (c, quoted.as_mut()) {
            ('`', None) => quoted = Some(String::new()),
            ('`', Some(q)) => {
                out.push('`');
                out.push_str(q);
                out.push('`');
                if let Some(row) = ids.get(q.as_str()) {
                    out.push_str(&format!(" (row {row})"));
                }
                quoted = None;
            }
            (c, Some(q)) => q.push(c),
            (c, None) => out.push(c),
        }
    }
    if let Some(q) = quoted {
        out.push('`');
        out.push_str(&q);
    }
    out
}

/// Where each observation's fields came from: (row, column index, column name) by field path.
type Cells = Vec<(u32, BTreeMap<String, (usize, String)>)>;

/// The evidence document a sheet stands for, and where each value came from.
fn document_from_table(
    pack: &Pack,
    table: &Table,
    about: &About,
) -> Result<(J, Cells, Vec<Diagnostic>), LoadError> {
    let mut problems = Vec::new();
    let Some((header_row, header)) = table.rows.first() else {
        return Err(LoadError::new(vec![table.whole(format!(
            "the sheet is empty; it needs a header row naming its columns ({})",
            columns().join(", ")
        ))]));
    };
    let allowed: Vec<&str> = OBSERVATION_FIELDS
        .iter()
        .copied()
        .filter(|f| !["source", "period"].contains(f))
        .chain(SHEET_COLUMNS.iter().copied())
        .collect();
    // Column index -> field name.
    let mut named: Vec<(usize, String)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (i, cell) in header.iter().enumerate() {
        let name = cell.shown().trim().to_lowercase().replace(' ', "_");
        if name.is_empty() {
            // A merged header cell, or a spare column: only a problem if the column holds data.
            if table
                .rows
                .iter()
                .skip(1)
                .any(|(_, r)| r.get(i).is_some_and(|c| !c.is_empty()))
            {
                problems.push(table.at(
                    *header_row,
                    i,
                    None,
                    "this column has values but no header; name it (one of the evidence columns)".into(),
                ));
            }
            continue;
        }
        if !allowed.contains(&name.as_str()) {
            problems.push(table.at(
                *header_row,
                i,
                None,
                format!(
                    "unknown column `{}`{}; the columns are {}",
                    cell.shown(),
                    did_you_mean(&name, &allowed),
                    crate::diagnostic::ticked(&columns(), ", ")
                ),
            ));
            continue;
        }
        if !seen.insert(name.clone()) {
            problems.push(table.at(*header_row, i, None, format!("a second `{name}` column")));
            continue;
        }
        named.push((i, name));
    }
    for required in ["key", "value", "source", "passage"] {
        if !seen.contains(required) {
            problems.push(table.at(
                *header_row,
                header.len(),
                None,
                format!("the header row has no `{required}` column"),
            ));
        }
    }
    let period = seen.contains("from") && seen.contains("to");
    if !seen.contains("date") && !period {
        problems.push(table.at(
            *header_row,
            header.len(),
            None,
            "the header row has no `date` column (or `from` and `to` for a period)".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(LoadError::new(problems));
    }
    let mut observations = Vec::new();
    let mut cells: Cells = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (row, values) in table.rows.iter().skip(1) {
        let problems_before = problems.len();
        // A CSV row may be longer than its header: an unquoted comma splits a cell in two, and
        // what lies beyond the last column would be lost without a word.
        for (i, cell) in values.iter().enumerate().skip(header.len()) {
            if !cell.is_empty() {
                problems.push(table.at(
                    *row,
                    i,
                    None,
                    format!(
                        "`{}` lies beyond the last named column; a cell holding the separator must be quoted (or the column named)",
                        cell.shown()
                    ),
                ));
            }
        }
        let mut obs = Map::new();
        let mut source = Map::new();
        let mut period = Map::new();
        let mut places: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let key = named
            .iter()
            .find(|(_, n)| n == "key")
            .and_then(|(i, _)| values.get(*i))
            .and_then(|c| pack.key(&c.shown()));
        for (i, name) in &named {
            let cell = values.get(*i).cloned().unwrap_or(Cell::Empty);
            if cell.is_empty() {
                continue;
            }
            if let Cell::Error(e) = &cell {
                problems.push(table.at(
                    *row,
                    *i,
                    Some(name),
                    format!("the cell shows the error `{e}`; a value is needed"),
                ));
                continue;
            }
            let value = match name.as_str() {
                "date" | "recorded" | "from" | "to" => match date_cell(&cell) {
                    Ok(d) => json!(d),
                    Err(m) => {
                        problems.push(table.at(*row, *i, Some(name), m));
                        continue;
                    }
                },
                "value" => match value_cell(&cell, key) {
                    Ok(v) => v,
                    Err(m) => {
                        problems.push(table.at(*row, *i, Some(name), m));
                        continue;
                    }
                },
                _ => J::String(cell.shown()),
            };
            let path = match name.as_str() {
                "source" => {
                    source.insert("document".into(), value);
                    "source.document".to_string()
                }
                "passage" => {
                    source.insert("passage".into(), value);
                    "source.passage".to_string()
                }
                "from" | "to" => {
                    period.insert(name.clone(), value);
                    format!("period.{name}")
                }
                _ => {
                    obs.insert(name.clone(), value);
                    name.clone()
                }
            };
            places.insert(path, (*i, name.clone()));
        }
        if !source.is_empty() {
            obs.insert("source".into(), J::Object(source));
        }
        if !period.is_empty() {
            obs.insert("period".into(), J::Object(period));
        }
        if !obs.contains_key("id") {
            // Stable: the same row content gives the same id on every import.
            let digest = crate::canonical::digest(&J::Object(obs.clone()));
            let mut id = format!("row-{}", digest.get(..12).unwrap_or(&digest));
            let n = ids.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                id = format!("{id}-{n}");
            }
            obs.insert("id".into(), J::String(id));
        }
        if problems.len() > problems_before {
            continue;
        }
        observations.push(J::Object(obs));
        cells.push((*row, places));
    }
    let title = match &about.title {
        Some(t) => Some(t.clone()),
        None if about.from_sheet => None,
        None => Some(match &table.sheet {
            Some(s) => format!("{}, sheet {s}", table.file),
            None => table.file.clone(),
        }),
    };
    let mut document = json!({ "council": about.council, "observations": observations });
    if let (Some(t), Some(obj)) = (title, document.as_object_mut()) {
        obj.insert("title".into(), json!(t));
    }
    if let (Some(d), Some(obj)) = (about.as_of, document.as_object_mut()) {
        obj.insert("as_of".into(), json!(d.format("%Y-%m-%d").to_string()));
    }
    Ok((document, cells, problems))
}

/// A date cell, or text written `YYYY-MM-DD`.
fn date_cell(cell: &Cell) -> Result<String, String> {
    match cell {
        Cell::Date(d) => Ok(d.format("%Y-%m-%d").to_string()),
        Cell::Text(t) => match crate::diagnostic::parse_date(t) {
            Ok(d) => Ok(d.format("%Y-%m-%d").to_string()),
            // Written YYYY-MM-DD, but no such day (`2016-02-30`).
            Err(m) if m.ends_with("is not a day of the calendar") => Err(m),
            Err(_) => Err(format!("`{t}` is not a date; expected YYYY-MM-DD or a date cell")),
        },
        other => Err(format!(
            "`{}` is not a date; expected YYYY-MM-DD or a date cell",
            other.shown()
        )),
    }
}

/// A value cell read as the key's type wants it; what cannot be read is passed on as written,
/// for the loader to report against the key. A percentage is a share, and refused for any other
/// number: `25%` is never read as 0.25 posts or 0.25 GBP million.
fn value_cell(cell: &Cell, key: Option<&crate::vocabulary::Key>) -> Result<J, String> {
    let kind = key.map(|k| &k.value_type);
    if let Some(ValueType::Number { unit, .. }) = kind {
        let percentage = match cell {
            Cell::Percent(_) => true,
            Cell::Text(t) => t.trim_end().ends_with('%'),
            _ => false,
        };
        if percentage && unit != crate::vocabulary::SHARE {
            return Err(format!(
                "`{}` is a percentage, and `{}` is in {unit}, not a share: write the number itself",
                cell.shown(),
                key.map_or("", |k| k.key.as_str())
            ));
        }
    }
    Ok(match (cell, kind) {
        (Cell::Percent(n), Some(ValueType::Number { .. })) => json!(n),
        // Excel makes a boolean cell of `TRUE` typed anywhere: for a text key it is that text.
        (Cell::Bool(_), Some(ValueType::Text)) => J::String(cell.shown()),
        (Cell::Bool(b), _) => J::Bool(*b),
        (Cell::Number(n), Some(ValueType::Text)) => J::String(crate::vocabulary::format_number(*n)),
        (Cell::Number(n), Some(ValueType::Boolean)) => {
            return Err(format!(
                "`{}` is not a boolean; expected TRUE, FALSE, yes or no",
                crate::vocabulary::format_number(*n)
            ))
        }
        (Cell::Number(n), _) => json!(n),
        (Cell::Date(d), _) => J::String(d.format("%Y-%m-%d").to_string()),
        (Cell::Text(t), Some(ValueType::Boolean)) => match t.to_lowercase().as_str() {
            "true" | "yes" | "y" => J::Bool(true),
            "false" | "no" | "n" => J::Bool(false),
            _ => return Err(format!("`{t}` is not a boolean; expected TRUE, FALSE, yes or no")),
        },
        (Cell::Text(t), Some(ValueType::Number { unit, .. })) => match t.parse::<f64>() {
            Ok(n) if n.is_finite() => json!(n),
            // A percentage, for a share: the loader reads it.
            _ if t.trim_end().ends_with('%') => J::String(t.clone()),
            _ => {
                let share = if unit == crate::vocabulary::SHARE {
                    ", or a percentage such as 25%"
                } else {
                    ""
                };
                return Err(format!(
                    "`{t}` is not a number; expected digits with a decimal point (8.4), without thousands separators{share}"
                ));
            }
        },
        (Cell::Text(t), Some(ValueType::Date)) => match crate::diagnostic::parse_date(t) {
            Ok(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Err(_) => J::String(t.clone()),
        },
        (other, _) => J::String(other.shown()),
    })
}

/// Moves a problem the evidence loader found at a JSON path to the cell it came from, naming the
/// rows of the observations it quotes.
fn relocate(table: &Table, cells: &Cells, ids: &BTreeMap<String, u32>, d: Diagnostic) -> Diagnostic {
    let d = Diagnostic {
        message: name_rows(&d.message, ids),
        ..d
    };
    let Some(rest) = d.path.strip_prefix("$.observations[") else {
        return table.whole(d.message);
    };
    let Some((index, field)) = rest.split_once(']') else {
        return table.whole(d.message);
    };
    let Some((row, places)) = index.parse::<usize>().ok().and_then(|i| cells.get(i)) else {
        return table.whole(d.message);
    };
    let field = field.trim_start_matches('.');
    // The most specific place recorded for the path: `source.document`, else `source`, …
    let place = places
        .iter()
        .filter(|(path, _)| {
            field == path.as_str()
                || field.starts_with(&format!("{path}."))
                || path.starts_with(&format!("{field}."))
        })
        .max_by_key(|(path, _)| path.len())
        .map(|(_, p)| p.clone());
    match place {
        Some((column, name)) => table.at(*row, column, Some(&name), d.message),
        None => {
            let words = if field.is_empty() {
                String::from("the row")
            } else {
                format!("`{field}`")
            };
            table.at_words(*row, 0, &words, d.message)
        }
    }
}

/// Whether a spreadsheet would run a cell beginning so as a formula.
fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Cells that a spreadsheet would run as a formula are written as text, after a quote mark. A
/// text with quote marks of its own before such a start (`'=x`) gets one more, so that reading
/// it back, which takes one away, gives the text again.
fn defused(text: &str) -> String {
    if formula_like(text.trim_start_matches('\'')) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// An exported cell: its text (dates `YYYY-MM-DD`, numbers in the canonical format), the number
/// when it is one, and whether it is a boolean (a text `TRUE` is not).
type OutCell = (String, Option<f64>, bool);

/// One row per observation, in the sheet's columns.
fn rows_of(evidence: &Evidence) -> Vec<Vec<OutCell>> {
    let canonical = evidence.canonical();
    let observations = canonical
        .get("observations")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default();
    let cols = columns();
    observations
        .iter()
        .map(|o| {
            cols.iter()
                .map(|c| {
                    let v = match *c {
                        "source" => o.pointer("/source/document"),
                        "passage" => o.pointer("/source/passage"),
                        "from" => o.pointer("/period/from"),
                        "to" => o.pointer("/period/to"),
                        other => o.get(other),
                    };
                    match v {
                        None | Some(J::Null) => (String::new(), None, false),
                        Some(J::String(s)) => (s.clone(), None, false),
                        Some(J::Number(n)) => {
                            let f = n.as_f64();
                            (
                                f.map(crate::vocabulary::format_number).unwrap_or_default(),
                                f,
                                false,
                            )
                        }
                        Some(J::Bool(b)) => (if *b { "TRUE" } else { "FALSE" }.to_string(), None, true),
                        Some(other) => (other.to_string(), None, false),
                    }
                })
                .collect()
        })
        .collect()
}

/// The evidence as CSV, one observation per row; a cell that a spreadsheet would run as a formula
/// is written as text.
pub fn evidence_to_csv(evidence: &Evidence) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = writer.write_record(columns());
    for row in rows_of(evidence) {
        let _ = writer.write_record(row.iter().map(|(t, n, _)| match n {
            Some(_) => t.clone(),
            None => defused(t),
        }));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A workbook whose bytes depend only on what is in it: the creation time every workbook records
/// is fixed, so the same evidence gives the same file.
fn new_workbook() -> Result<rust_xlsxwriter::Workbook, String> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let fixed = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).map_err(|e| e.to_string())?;
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&fixed));
    Ok(workbook)
}

/// The evidence as an XLSX workbook: an *Observations* sheet (numbers as numbers, dates as date
/// cells, text as text cells, never formulas).
pub fn evidence_to_xlsx(evidence: &Evidence) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let mut workbook = new_workbook()?;
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Observations").map_err(|e| e.to_string())?;
    let cols = columns();
    for (c, name) in cols.iter().enumerate() {
        let c = u16::try_from(c).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, c, *name, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (r, row) in rows_of(evidence).iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
        for (c, (text, number, boolean)) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            let name = cols.get(usize::from(c)).copied().unwrap_or("");
            if text.is_empty() {
                continue;
            }
            let date = ["date", "recorded", "from", "to"]
                .contains(&name)
                .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .flatten();
            // A day Excel cannot show as a date (before 1900) goes out as `YYYY-MM-DD` text,
            // which reads back the same.
            let excel_date = date.filter(|d| chrono::Datelike::year(d) >= 1900).and_then(|d| {
                ExcelDateTime::from_ymd(
                    u16::try_from(chrono::Datelike::year(&d)).ok()?,
                    u8::try_from(chrono::Datelike::month(&d)).ok()?,
                    u8::try_from(chrono::Datelike::day(&d)).ok()?,
                )
                .ok()
            });
            if let Some(dt) = excel_date {
                sheet
                    .write_datetime_with_format(r, c, &dt, &date_format)
                    .map_err(|e| e.to_string())?;
            } else if let Some(n) = number {
                sheet.write_number(r, c, *n).map_err(|e| e.to_string())?;
            } else if *boolean {
                sheet
                    .write_boolean(r, c, text == "TRUE")
                    .map_err(|e| e.to_string())?;
            } else {
                // A string cell is never evaluated, whatever it starts with.
                sheet.write_string(r, c, text).map_err(|e| e.to_string())?;
            }
        }
    }
    sheet.autofit();
    let about = workbook.add_worksheet();
    about.set_name("About").map_err(|e| e.to_string())?;
    about
        .write_string_with_format(0, 0, "field", &bold)
        .map_err(|e| e.to_string())?;
    about
        .write_string_with_format(0, 1, "value", &bold)
        .map_err(|e| e.to_string())?;
    let mut r = 1;
    for (field, value) in [
        ("council", Some(evidence.council.clone())),
        ("title", evidence.title.clone()),
        ("as_of", evidence.as_of.map(|d| d.format("%Y-%m-%d").to_string())),
    ] {
        if let Some(v) = value {
            about.write_string(r, 0, field).map_err(|e| e.to_string())?;
            about.write_string(r, 1, v).map_err(|e| e.to_string())?;
            r += 1;
        }
    }
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// A workbook to fill in: an *Observations* sheet with the header row and drop-down lists for
/// keys, functions, grades and booleans, and a *Keys* sheet describing every key.
pub fn template_xlsx(pack: &Pack) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{DataValidation, Format, Formula};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut workbook = new_workbook()?;
    let bold = Format::new().set_bold();
    let cols = columns();
    let keys = pack.keys();
    // Lists live on a Lists sheet: a drop-down written inline is limited to 255 characters.
    let mut lists: Vec<(&str, Vec<String>)> = vec![
        ("keys", keys.iter().map(|k| k.key.clone()).collect()),
        (
            "functions",
            pack.functions().iter().map(|f| f.id.clone()).collect(),
        ),
        ("values", {
            let mut v: Vec<String> = vec!["TRUE".into(), "FALSE".into()];
            for s in pack.scales() {
                v.extend(s.levels.iter().cloned());
            }
            v
        }),
        (
            "basis",
            crate::evidence::Basis::ALL
                .iter()
                .map(|b| b.word().to_string())
                .collect(),
        ),
    ];
    lists.retain(|(_, v)| !v.is_empty());
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("Observations").map_err(err)?;
        for (c, name) in cols.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            sheet.write_string_with_format(0, c, *name, &bold).map_err(err)?;
        }
        for (n, (list, values)) in lists.iter().enumerate() {
            let column = match *list {
                "keys" => "key",
                "functions" => "function",
                "values" => "value",
                _ => "basis",
            };
            let Some(c) = cols.iter().position(|x| *x == column) else {
                continue;
            };
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            let letter = column_letters(n);
            let formula = format!("=Lists!${letter}$2:${letter}${}", values.len() + 1);
            let mut validation = DataValidation::new().allow_list_formula(Formula::new(formula));
            if *list == "values" {
                // A number or a date is a value too: the list suggests, it does not forbid.
                validation =
                    validation.set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Information);
            }
            sheet
                .add_data_validation(1, c, 10_000, c, &validation)
                .map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        sheet.autofit();
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("Keys").map_err(err)?;
        let header = [
            "key",
            "type",
            "unit",
            "direction",
            "scale",
            "scope",
            "fresh for (days)",
            "judgement",
            "read by",
            "description",
        ];
        for (c, h) in header.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            sheet.write_string_with_format(0, c, *h, &bold).map_err(err)?;
        }
        for (r, k) in keys.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
            let (kind, unit, direction, scale) = match &k.value_type {
                ValueType::Boolean => ("boolean", String::new(), String::new(), String::new()),
                ValueType::Number { unit, direction, .. } => (
                    "number",
                    unit.clone(),
                    match direction {
                        crate::vocabulary::Direction::HigherIsBetter => "higher is better".into(),
                        crate::vocabulary::Direction::LowerIsBetter => "lower is better".into(),
                    },
                    String::new(),
                ),
                ValueType::Grade { scale } => ("grade", String::new(), String::new(), scale.clone()),
                ValueType::Date => ("date", String::new(), String::new(), String::new()),
                ValueType::Text => ("text", String::new(), String::new(), String::new()),
            };
            let read_by: Vec<&str> = pack
                .rules()
                .iter()
                .filter(|rule| pack.keys_read(rule).iter().any(|x| x.key == k.key))
                .map(|rule| rule.id.as_str())
                .collect();
            let row = [
                k.key.clone(),
                kind.to_string(),
                unit,
                direction,
                scale,
                match k.scope {
                    Scope::Council => "council".into(),
                    Scope::Function => "per function".into(),
                },
                k.max_age_days.map(|d| d.to_string()).unwrap_or_default(),
                if k.judgement { "yes".into() } else { String::new() },
                read_by.join(", "),
                k.description.clone(),
            ];
            for (c, text) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|e| e.to_string())?;
                sheet.write_string(r, c, defused(text)).map_err(err)?;
            }
        }
        sheet.set_freeze_panes(1, 1).map_err(err)?;
        sheet.autofit();
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("Lists").map_err(err)?;
        for (n, (list, values)) in lists.iter().enumerate() {
            let c = u16::try_from(n).map_err(|e| e.to_string())?;
            sheet.write_string_with_format(0, c, *list, &bold).map_err(err)?;
            for (r, v) in values.iter().enumerate() {
                let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
                sheet.write_string(r, c, v).map_err(err)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(err)
}
