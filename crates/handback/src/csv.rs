//! A small CSV reader for tables people keep in spreadsheets (decision logs, meeting calendars).
//!
//! RFC 4180 quoting (double quotes, `""` inside), a header row naming the columns, blank lines
//! skipped. Every cell keeps its line and column so problems are located like JSON ones.

use crate::diagnostic::Diagnostic;
use crate::json::Pos;

/// One data row: its cells by column, with where each starts.
pub(crate) struct Row {
    pub line: u32,
    pub cells: Vec<(String, Pos)>,
}

/// A parsed table: the header's column names and the data rows.
pub(crate) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

impl Row {
    pub fn get(&self, column: usize) -> Option<&(String, Pos)> {
        self.cells.get(column)
    }
}

/// Parses CSV text; `file` names the file in diagnostics.
pub(crate) fn parse(file: &str, text: &str) -> Result<Table, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows: Vec<Row> = Vec::new();
    let mut problems = Vec::new();
    let mut chars = text.chars().peekable();
    let mut pos = Pos { line: 1, column: 1 };
    let mut row: Vec<(String, Pos)> = Vec::new();
    let mut row_line = 1;
    let mut cell = String::new();
    let mut cell_pos = pos;
    let mut quoted = false;
    let mut in_quotes = false;
    let advance = |c: char, pos: &mut Pos| {
        if c == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
    };
    while let Some(c) = chars.next() {
        let here = pos;
        advance(c, &mut pos);
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    advance('"', &mut pos);
                    cell.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' if cell.is_empty() && !quoted => {
                quoted = true;
                in_quotes = true;
            }
            '"' => problems.push(located(
                file,
                here,
                "a quote inside an unquoted cell; quote the whole cell and double the quote",
            )),
            ',' => {
                row.push((std::mem::take(&mut cell), cell_pos));
                cell_pos = pos;
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push((std::mem::take(&mut cell), cell_pos));
                if !(row.len() == 1 && row.first().is_some_and(|(c, _)| c.trim().is_empty())) {
                    rows.push(Row {
                        line: row_line,
                        cells: std::mem::take(&mut row),
                    });
                }
                row.clear();
                row_line = pos.line;
                cell_pos = pos;
                quoted = false;
            }
            c => cell.push(c),
        }
    }
    if in_quotes {
        problems.push(located(
            file,
            cell_pos,
            "a quoted cell is not closed before the end of the file",
        ));
    }
    row.push((cell, cell_pos));
    if !(row.len() == 1 && row.first().is_some_and(|(c, _)| c.trim().is_empty())) {
        rows.push(Row {
            line: row_line,
            cells: row,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Err(vec![located(
            file,
            Pos { line: 1, column: 1 },
            "the file is empty; it needs a header row",
        )]);
    };
    Ok(Table {
        header: header
            .cells
            .into_iter()
            .map(|(c, _)| c.trim().to_ascii_lowercase())
            .collect(),
        rows: rows.collect(),
    })
}

pub(crate) fn located(file: &str, pos: Pos, message: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
        path: String::new(),
        message: message.to_string(),
    }
}

impl Table {
    /// The index of a required column, or a diagnostic naming what the header has.
    pub fn column(&self, file: &str, name: &str) -> Result<usize, Diagnostic> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            located(
                file,
                Pos { line: 1, column: 1 },
                &format!(
                    "the header has no `{name}` column; it has {}",
                    crate::diagnostic::ticked(&self.header, ", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_positions() {
        let t = parse("f", "a,b\n\"x, \"\"y\"\"\",2\n\n3,4\n").unwrap();
        assert_eq!(t.header, ["a", "b"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[0].0, "x, \"y\"");
        assert_eq!(t.rows[1].line, 4);
        assert_eq!(t.rows[1].cells[1].1, Pos { line: 4, column: 3 });
        assert!(parse("f", "a\n\"open").is_err());
    }
}
