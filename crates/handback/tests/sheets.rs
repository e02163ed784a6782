//! Evidence from and to spreadsheets: what real sheets hold is read, every bad cell is located,
//! workbooks round-trip, templates carry drop-downs, and no exported cell can run as a formula.

#![cfg(feature = "spreadsheets")]
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::io::Read;

use handback::spreadsheet::{self, About};
use handback::{Evidence, Limits, Value};

fn about() -> About {
    About {
        council: "Rotherham Metropolitan Borough Council".into(),
        ..About::default()
    }
}

fn import_csv(text: &[u8]) -> Result<Evidence, handback::LoadError> {
    let pack = handback::default_pack().unwrap();
    let table = spreadsheet::read_csv("e.csv", text, Limits::default())?;
    spreadsheet::evidence_from_table(&pack, &table, &about(), Limits::default())
}

/// A byte-order mark, `;` separators, blank rows, spaces, `yes`, `TRUE` and `25%`: what Excel in
/// much of Europe saves.
#[test]
fn a_european_excel_csv_is_read() {
    let text = "\u{feff}key ; value ; date ; source ; passage ; judged_by\n\n\
                children.agency_share ; 25% ; 2016-03-31 ; 000_94efcd794c95ea6a.txt ; §5 ;\n\
                \n\
                corporate.engaged_with_children ; yes ; 2016-07-31 ; 000_94efcd794c95ea6a.txt ; §5 ; Lead Commissioner \n\
                children.workforce_strategy_adopted;TRUE;2016-05-01;000_94efcd794c95ea6a.txt;§5;\n";
    let e = import_csv(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.observations().len(), 3);
    let value = |key: &str| {
        e.observations()
            .iter()
            .find(|o| o.key == key)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(value("children.agency_share"), Value::Number(0.25));
    assert_eq!(value("corporate.engaged_with_children"), Value::Boolean(true));
    assert_eq!(value("children.workforce_strategy_adopted"), Value::Boolean(true));
    // Ids come from the rows' content: the same sheet gives the same ids every time.
    let again = import_csv(text.as_bytes()).unwrap();
    let ids = |e: &Evidence| e.observations().iter().map(|o| o.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&e), ids(&again));
    assert!(ids(&e).iter().all(|id| id.starts_with("row-")), "{:?}", ids(&e));
}

#[test]
fn an_unknown_column_and_a_missing_one_are_named_at_the_header() {
    let err = import_csv(b"key,valeu,date,source\nchildren.agency_share,0.2,2016-01-01,s\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("e.csv:1:2: row 1, column B: unknown column `valeu` (did you mean `value`?)"),
        "{err}"
    );
    assert!(err.contains("the header row has no `passage` column"), "{err}");
}

/// JSON → workbook → JSON gives the same evidence, observation for observation.
#[test]
fn evidence_round_trips_through_a_workbook() {
    let pack = handback::default_pack().unwrap();
    let original = common::load_evidence(&pack, "fixtures/rotherham/2016-08-progress-letter.json");
    let bytes = spreadsheet::evidence_to_xlsx(&original).unwrap();
    // The same evidence makes the same bytes.
    assert_eq!(bytes, spreadsheet::evidence_to_xlsx(&original).unwrap());
    let table = spreadsheet::read_xlsx("e.xlsx", &bytes, Some("Observations"), Limits::default()).unwrap();
    let about = spreadsheet::read_about("e.xlsx", &bytes, Limits::default())
        .unwrap()
        .unwrap();
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default()).unwrap();
    assert_eq!(back.canonical(), original.canonical());
    // And through CSV, the council given again (a CSV has nowhere to keep it).
    let csv = spreadsheet::evidence_to_csv(&original);
    let table = spreadsheet::read_csv("e.csv", csv.as_bytes(), Limits::default()).unwrap();
    let about = About {
        council: original.council().to_string(),
        title: original.title().map(str::to_string),
        as_of: original.as_of(),
        from_sheet: false,
    };
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default()).unwrap();
    assert_eq!(back.canonical(), original.canonical());
}

fn sheet_xml(bytes: &[u8], n: usize) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(&format!("xl/worksheets/sheet{n}.xml"))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The template opens with drop-downs for keys, functions, values and bases, read from its
/// Lists sheet, and a Keys sheet describing every key.
#[test]
fn the_template_has_drop_downs_and_describes_every_key() {
    let pack = handback::default_pack().unwrap();
    let bytes = spreadsheet::template_xlsx(&pack).unwrap();
    let xml = sheet_xml(&bytes, 1);
    let keys = pack.keys().len();
    let columns = spreadsheet::columns();
    let letter = |name: &str| {
        char::from(b'A' + u8::try_from(columns.iter().position(|c| *c == name).unwrap()).unwrap())
    };
    for (column, list) in [
        ("key", format!("Lists!$A$2:$A${}", keys + 1)),
        (
            "function",
            format!("Lists!$B$2:$B${}", pack.functions().len() + 1),
        ),
    ] {
        let want = format!(
            "sqref=\"{0}2:{0}10001\"><formula1>{list}</formula1>",
            letter(column)
        );
        assert!(
            xml.contains(&want),
            "no drop-down for `{column}` ({want}) in:\n{xml}"
        );
    }
    assert_eq!(xml.matches("<dataValidation ").count(), 4, "{xml}");
    let described = spreadsheet::read_xlsx("t.xlsx", &bytes, Some("Keys"), Limits::default()).unwrap();
    assert_eq!(described.rows.len(), keys + 1);
    let header = spreadsheet::read_xlsx("t.xlsx", &bytes, Some("Observations"), Limits::default()).unwrap();
    let names: Vec<String> = header.rows[0]
        .1
        .iter()
        .map(|c| match c {
            spreadsheet::Cell::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, columns);
}

/// A passage or note that begins like a formula is written so that a spreadsheet shows it as
/// text: a quote mark before it in CSV, a string cell (never a formula) in a workbook.
#[test]
fn no_exported_cell_can_run_as_a_formula() {
    let pack = handback::default_pack().unwrap();
    let doc = serde_json::json!({"council": "c", "observations": [
        {"id": "o1", "key": "children.agency_share", "value": 0.2, "date": "2016-01-01",
         "note": "+1 on last quarter", "source": {"document": "=HYPERLINK(\"http://evil.example\",\"click\")", "passage": "@SUM(A1:A9)"}},
    ]});
    let evidence = Evidence::load(
        &pack,
        &handback::SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: doc.to_string(),
        },
    )
    .unwrap();
    let csv = spreadsheet::evidence_to_csv(&evidence);
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    // Read back, the marker goes: the value is what was exported.
    let table = spreadsheet::read_csv("e.csv", csv.as_bytes(), Limits::default()).unwrap();
    let about = About {
        council: "c".into(),
        ..About::default()
    };
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default()).unwrap();
    assert_eq!(
        back.canonical()["observations"],
        evidence.canonical()["observations"]
    );
    assert!(csv.contains("'@SUM(A1:A9)"), "{csv}");
    assert!(csv.contains("'+1 on last quarter"), "{csv}");
    let bytes = spreadsheet::evidence_to_xlsx(&evidence).unwrap();
    let xml = sheet_xml(&bytes, 1);
    assert!(!xml.contains("<f>"), "a formula in the workbook:\n{xml}");
    let back = spreadsheet::read_xlsx("e.xlsx", &bytes, Some("Observations"), Limits::default()).unwrap();
    let cells: Vec<&spreadsheet::Cell> = back.rows[1].1.iter().collect();
    assert!(
        cells.contains(&&spreadsheet::Cell::Text(
            "=HYPERLINK(\"http://evil.example\",\"click\")".into()
        )),
        "{cells:?}"
    );
}

/// More rows than the observation limit: refused before they are all held, with the flag that
/// raises it.
#[test]
fn a_sheet_over_the_observation_limit_is_refused() {
    let mut text = String::from("key,value,date,source,passage\n");
    for i in 0..2_000 {
        text.push_str(&format!("children.agency_share,0.2,2016-01-01,s,p{i}\n"));
    }
    let limits = Limits {
        max_observations: 1_000,
        ..Limits::default()
    };
    let err = spreadsheet::read_csv("big.csv", text.as_bytes(), limits)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the limit is 1000 observations (raise it with `--max-observations`)"),
        "{err}"
    );
}

/// A workbook with one observation row under the usual header, its `date` and `value` cells
/// written by `fill`.
fn workbook_with(fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Observations").unwrap();
    for (c, h) in ["key", "value", "date", "source", "passage"].iter().enumerate() {
        sheet.write_string(0, u16::try_from(c).unwrap(), *h).unwrap();
    }
    sheet.write_string(1, 3, "000_94efcd794c95ea6a.txt").unwrap();
    sheet.write_string(1, 4, "§5").unwrap();
    fill(sheet);
    workbook.save_to_buffer().unwrap()
}

fn import_xlsx(bytes: &[u8]) -> Result<Evidence, handback::LoadError> {
    let pack = handback::default_pack().unwrap();
    let table = spreadsheet::read_xlsx("e.xlsx", bytes, None, Limits::default())?;
    spreadsheet::evidence_from_table(&pack, &table, &about(), Limits::default())
}

/// A date cell that holds no day of the calendar (a time of day, Excel's day 0, its
/// 29 February 1900 that never was, a negative serial) is refused as what it shows, never read
/// as 31 December 1899.
#[test]
fn a_date_cell_without_a_calendar_day_is_refused() {
    let time = rust_xlsxwriter::Format::new().set_num_format("hh:mm");
    let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let not_a_date = "is not a date; expected YYYY-MM-DD or a date cell";
    let no_such_day = "is not a day of the calendar";
    for (serial, format, shown) in [
        (0.5, &time, format!("`12:00` {not_a_date}")),
        (0.0, &day, format!("`1900-01-00` {no_such_day}")),
        (60.0, &day, format!("`1900-02-29` {no_such_day}")),
        (-3.0, &day, format!("`-3` {not_a_date}")),
    ] {
        let bytes = workbook_with(|s| {
            s.write_string(1, 0, "children.vacant_posts").unwrap();
            s.write_number(1, 1, 64).unwrap();
            s.write_number_with_format(1, 2, serial, format).unwrap();
        });
        let err = import_xlsx(&bytes)
            .map(|e| e.canonical())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "e.xlsx:2:3: sheet Observations, row 2, column date: {shown}"
            )),
            "{serial}: {err}"
        );
    }
    // A real day still reads, its time of day dropped.
    let bytes = workbook_with(|s| {
        s.write_string(1, 0, "children.vacant_posts").unwrap();
        s.write_number(1, 1, 64).unwrap();
        s.write_number_with_format(1, 2, 42_460.75, &day).unwrap();
    });
    let e = import_xlsx(&bytes).unwrap();
    assert_eq!(e.observations()[0].date.to_string(), "2016-03-31");
}

/// A cell Excel shows as `25%` holds 0.25: that is the share 25% where the key's unit is a share,
/// and refused elsewhere (a count of posts, a key in `%`), never read as 0.25 of its unit.
#[test]
fn a_percentage_cell_is_a_share_only_where_the_key_is_a_share() {
    let percent = rust_xlsxwriter::Format::new().set_num_format("0%");
    let with = |key: &'static str| {
        workbook_with(|s| {
            s.write_string(1, 0, key).unwrap();
            s.write_number_with_format(1, 1, 0.25, &percent).unwrap();
            s.write_string(1, 2, "2016-03-31").unwrap();
        })
    };
    let e = import_xlsx(&with("children.agency_share")).unwrap();
    assert_eq!(e.observations()[0].value, Value::Number(0.25));
    // GBP million: 0.25 would be a value it could take, so nothing else would catch it.
    let err = import_xlsx(&with("children.overspend_gbp_m"))
        .map(|e| e.canonical())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "e.xlsx:2:2: sheet Observations, row 2, column value: `25%` is a percentage, and `children.overspend_gbp_m` is in GBP million, not a share: write the number itself"
        ),
        "{err}"
    );
    // The same as text in a CSV.
    let err = import_csv(
        "key,value,date,source,passage\nchildren.vacant_posts,25%,2016-03-31,000_94efcd794c95ea6a.txt,§5\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("e.csv:2:2: row 2, column value: `25%` is a percentage, and `children.vacant_posts` is in posts, not a share: write the number itself"),
        "{err}"
    );
}

/// A quoted cell with line breaks is one row of the spreadsheet: a problem below it is reported
/// at the row a spreadsheet shows (and the line a text editor shows), not at the line as the row.
#[test]
fn a_problem_below_a_cell_with_line_breaks_names_the_spreadsheet_row() {
    let text = "key,value,date,source,passage\n\
                children.vacant_posts,64,2016-08-11,000_94efcd794c95ea6a.txt,\"§5,\nfirst paragraph\r\nand the second\"\n\
                \n\
                children.agency_shar,0.2,2016-08-13,000_94efcd794c95ea6a.txt,§5\n";
    let err = import_csv(text.as_bytes())
        .map(|e| e.canonical())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("e.csv:6:1: row 4, column key: unknown evidence key `children.agency_shar`"),
        "{err}"
    );
}

/// A text that already begins with the quote mark a CSV export puts before formula-like text
/// (`'=x`) keeps it through a CSV round trip: the export adds a mark, the import takes one away.
#[test]
fn a_quote_mark_of_its_own_survives_a_csv_round_trip() {
    let pack = handback::default_pack().unwrap();
    let doc = serde_json::json!({"council": "c", "observations": [
        {"id": "o1", "key": "children.vacant_posts", "value": 64, "date": "2016-01-01",
         "note": "''+1 on last quarter", "source": {"document": "'=x", "passage": "'plain"}},
    ]});
    let evidence = Evidence::load(
        &pack,
        &handback::SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: doc.to_string(),
        },
    )
    .unwrap();
    let csv = spreadsheet::evidence_to_csv(&evidence);
    assert!(csv.contains(",'''+1 on last quarter,''=x,'plain\n"), "{csv}");
    let table = spreadsheet::read_csv("e.csv", csv.as_bytes(), Limits::default()).unwrap();
    let about = About {
        council: "c".into(),
        ..About::default()
    };
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default()).unwrap();
    assert_eq!(
        back.canonical()["observations"],
        evidence.canonical()["observations"]
    );
}

/// The Rotherham pack with a text key, `children.status_text`.
fn pack_with_a_text_key() -> handback::Pack {
    let mut files = handback::default_pack_files();
    let vocabulary = files.iter_mut().find(|f| f.name == "vocabulary.json").unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&vocabulary.text).unwrap();
    json["keys"].as_array_mut().unwrap().push(serde_json::json!({
        "key": "children.status_text", "type": "text",
        "description": "What the service's own status report says, word for word."
    }));
    vocabulary.text = json.to_string();
    handback::Pack::load(&files).unwrap()
}

/// A text value that reads `TRUE` or `FALSE` is text: a workbook export writes it as a text
/// cell, not a boolean one, and it reads back as the same text.
#[test]
fn a_text_value_true_stays_text_through_a_workbook() {
    let pack = pack_with_a_text_key();
    let doc = serde_json::json!({"council": "c", "observations": [
        {"id": "o1", "key": "children.status_text", "value": "TRUE", "date": "2016-01-01",
         "source": {"document": "d", "passage": "p"}},
        {"id": "o2", "key": "children.mtfs_adopted", "value": false, "date": "2016-01-01",
         "source": {"document": "d", "passage": "p"}},
    ]});
    let evidence = Evidence::load(
        &pack,
        &handback::SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: doc.to_string(),
        },
    )
    .unwrap();
    let bytes = spreadsheet::evidence_to_xlsx(&evidence).unwrap();
    let table = spreadsheet::read_xlsx("e.xlsx", &bytes, None, Limits::default()).unwrap();
    let about = spreadsheet::read_about("e.xlsx", &bytes, Limits::default())
        .unwrap()
        .unwrap();
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        back.canonical()["observations"],
        evidence.canonical()["observations"]
    );
}

/// Evidence without a title comes back from its workbook without one: the About sheet says
/// what the evidence says, and no title is made up from the file's name.
#[test]
fn evidence_without_a_title_round_trips_through_a_workbook() {
    let pack = handback::default_pack().unwrap();
    let doc = serde_json::json!({"council": "c", "observations": [
        {"id": "o1", "key": "children.vacant_posts", "value": 64, "date": "2016-01-01",
         "source": {"document": "d", "passage": "p"}},
    ]});
    let evidence = Evidence::load(
        &pack,
        &handback::SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: doc.to_string(),
        },
    )
    .unwrap();
    let bytes = spreadsheet::evidence_to_xlsx(&evidence).unwrap();
    let table = spreadsheet::read_xlsx("/some/folder/e.xlsx", &bytes, None, Limits::default()).unwrap();
    let about = spreadsheet::read_about("/some/folder/e.xlsx", &bytes, Limits::default())
        .unwrap()
        .unwrap();
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default()).unwrap();
    assert_eq!(back.canonical(), evidence.canonical());
}

/// A problem between two rows names both rows: an id made from a row's content is nowhere in the
/// sheet, so the row it stands for is named beside it.
#[test]
fn two_rows_in_conflict_are_both_named() {
    let err = import_csv(
        "key,value,date,source,passage\n\
         children.vacant_posts,64,2016-08-11,000_94efcd794c95ea6a.txt,§5\n\
         children.agency_share,0.2,2016-08-11,000_94efcd794c95ea6a.txt,§5\n\
         children.vacant_posts,65,2016-08-11,000_94efcd794c95ea6a.txt,§5\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("e.csv:4:1: row 4, the row: observation `row-"),
        "{err}"
    );
    assert!(err.contains("` (row 4) and observation `row-"), "{err}");
    assert!(
        err.contains("` (row 2) both record `children.vacant_posts` on 2016-08-11"),
        "{err}"
    );
}

/// A problem with a whole row is placed at the row, whatever the sheet is called.
#[test]
fn a_whole_row_problem_in_a_sheet_named_like_a_column() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("column A").unwrap();
    for (r, row) in [
        ["key", "value", "date", "source", "passage"],
        ["children.vacant_posts", "64", "2016-08-11", "d", "p"],
        ["children.vacant_posts", "65", "2016-08-11", "d", "p"],
    ]
    .iter()
    .enumerate()
    {
        for (c, text) in row.iter().enumerate() {
            sheet
                .write_string(u32::try_from(r).unwrap(), u16::try_from(c).unwrap(), *text)
                .unwrap();
        }
    }
    let err = import_xlsx(&workbook.save_to_buffer().unwrap())
        .map(|e| e.canonical())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("e.xlsx:3:1: sheet column A, row 3, the row: observation `row-"),
        "{err}"
    );
}

/// A grade off its scale by a slip (case, one letter) gets a "did you mean"; a word that is a
/// different judgement (`adequate`, two letters from `inadequate`) is never offered its opposite.
#[test]
fn a_misspelled_grade_is_offered_the_level_meant_and_never_its_opposite() {
    let err = import_csv(
        "key,value,date,source,passage\n\
         children.ofsted_overall,Good,2016-08-11,000_94efcd794c95ea6a.txt,§5\n\
         children.ofsted_overall,requires improvment,2016-08-12,000_94efcd794c95ea6a.txt,§5\n\
         children.ofsted_overall,adequate,2016-08-13,000_94efcd794c95ea6a.txt,§5\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("row 2, column value: `Good` is not a level of scale `ofsted` (did you mean `good`?); expected one of"),
        "{err}"
    );
    assert!(
        err.contains("row 3, column value: `requires improvment` is not a level of scale `ofsted` (did you mean `requires improvement`?)"),
        "{err}"
    );
    assert!(
        err.contains("row 4, column value: `adequate` is not a level of scale `ofsted`; expected one of"),
        "{err}"
    );
}

/// A value cell that cannot be read as its key's type is quoted as the cell shows it, with what
/// a sheet may hold instead (not JSON's words).
#[test]
fn an_unreadable_value_is_quoted_with_what_the_sheet_may_hold() {
    let err = import_csv(
        "key,value,date,source,passage,judged_by\n\
         corporate.engaged_with_children,ja,2016-08-11,000_94efcd794c95ea6a.txt,§5,the Commissioners\n\
         children.overspend_gbp_m,\"8,4\",2016-08-11,000_94efcd794c95ea6a.txt,§5,\n\
         children.agency_share,\"0,25\",2016-08-11,000_94efcd794c95ea6a.txt,§5,\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("row 2, column value: `ja` is not a boolean; expected TRUE, FALSE, yes or no"),
        "{err}"
    );
    assert!(
        err.contains("row 3, column value: `8,4` is not a number; expected digits with a decimal point (8.4), without thousands separators"),
        "{err}"
    );
    assert!(
        err.contains("row 4, column value: `0,25` is not a number; expected digits with a decimal point (8.4), without thousands separators, or a percentage such as 25%"),
        "{err}"
    );
}

/// A number under a boolean key (a `1` for yes) is refused as what it shows.
#[test]
fn a_number_for_a_boolean_is_refused_as_it_shows() {
    let bytes = workbook_with(|s| {
        s.write_string(1, 0, "children.mtfs_adopted").unwrap();
        s.write_number(1, 1, 1).unwrap();
        s.write_string(1, 2, "2016-03-31").unwrap();
    });
    let err = import_xlsx(&bytes)
        .map(|e| e.canonical())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("e.xlsx:2:2: sheet Observations, row 2, column value: `1` is not a boolean; expected TRUE, FALSE, yes or no"),
        "{err}"
    );
}

/// A 200,000-row CSV is read in time linear in its size: refused under a lower observation limit
/// at once, and read whole under the default one, not left counting lines from the top of the
/// file for every row.
#[test]
fn a_two_hundred_thousand_row_csv_is_read_in_linear_time() {
    let mut text = String::from("key,value,date,source,passage\n");
    for i in 0..200_000 {
        text.push_str(&format!("children.vacant_posts,{i},2016-01-01,s,p{i}\n"));
    }
    let started = std::time::Instant::now();
    let limits = Limits {
        max_observations: 150_000,
        ..Limits::default()
    };
    let err = spreadsheet::read_csv("big.csv", text.as_bytes(), limits)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the limit is 150000 observations"), "{err}");
    let table = spreadsheet::read_csv("big.csv", text.as_bytes(), Limits::default()).unwrap();
    assert_eq!(table.rows.len(), 200_001);
    assert_eq!(table.rows.last().unwrap().0, 200_001);
    let took = started.elapsed();
    assert!(took.as_secs() < 30, "reading took {took:?}");
}

/// Every date evidence may hold goes out to a workbook and comes back the same day: those Excel
/// can show as date cells (across its 1900 leap-year slip), those before 1900 as text.
#[test]
fn dates_at_the_edges_of_excel_round_trip() {
    let pack = handback::default_pack().unwrap();
    let days = [
        "1066-10-14",
        "1899-12-31",
        "1900-01-01",
        "1900-02-28",
        "1900-03-01",
        "2016-02-29",
    ];
    let observations: Vec<serde_json::Value> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            serde_json::json!({"id": format!("o{i}"), "key": "children.vacant_posts", "value": i,
                "date": d, "source": {"document": "d", "passage": "p"}})
        })
        .collect();
    let evidence = Evidence::load(
        &pack,
        &handback::SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: serde_json::json!({"council": "c", "observations": observations}).to_string(),
        },
    )
    .unwrap();
    let bytes = spreadsheet::evidence_to_xlsx(&evidence).unwrap_or_else(|e| panic!("{e}"));
    let table = spreadsheet::read_xlsx("e.xlsx", &bytes, None, Limits::default()).unwrap();
    let about = spreadsheet::read_about("e.xlsx", &bytes, Limits::default())
        .unwrap()
        .unwrap();
    let back = spreadsheet::evidence_from_table(&pack, &table, &about, Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.canonical(), evidence.canonical());
}

/// A value beyond the header's last column (an unquoted comma in a passage splits it in two) is
/// refused at its cell, never dropped: the passage would be silently cut short.
#[test]
fn a_value_beyond_the_last_named_column_is_refused() {
    let err = import_csv(
        "key,value,date,source,passage\n\
         children.vacant_posts,64,2016-08-11,000_94efcd794c95ea6a.txt,§5, para 2\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("e.csv:2:6: row 2, column F: `para 2` lies beyond the last named column; a cell holding the separator must be quoted (or the column named)"),
        "{err}"
    );
}

/// Rows ended by a carriage return alone (Excel for Mac's "CSV (Macintosh)") are numbered as
/// rows, not all reported at row 1.
#[test]
fn rows_ended_by_carriage_returns_are_numbered() {
    let err = import_csv(
        "key,value,date,source,passage\r\
         children.vacant_posts,64,2016-08-11,000_94efcd794c95ea6a.txt,§5\r\
         children.agency_shar,0.2,2016-08-11,000_94efcd794c95ea6a.txt,§5\r"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("e.csv:3:1: row 3, column key: unknown evidence key `children.agency_shar`"),
        "{err}"
    );
}

/// A workbook of the office's own with a sheet called *About* that is not the `field`/`value`
/// sheet an export writes is read for its observations, its About sheet left alone.
#[test]
fn an_about_sheet_of_the_offices_own_is_left_alone() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Observations").unwrap();
    for (r, row) in [
        ["key", "value", "date", "source", "passage"],
        ["children.vacant_posts", "64", "2016-08-11", "d", "p"],
    ]
    .iter()
    .enumerate()
    {
        for (c, text) in row.iter().enumerate() {
            sheet
                .write_string(u32::try_from(r).unwrap(), u16::try_from(c).unwrap(), *text)
                .unwrap();
        }
    }
    let about = workbook.add_worksheet();
    about.set_name("About").unwrap();
    about
        .write_string(0, 0, "This log is kept by the Commissioners' office.")
        .unwrap();
    about.write_string(1, 0, "Updated monthly").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    assert_eq!(
        spreadsheet::read_about("e.xlsx", &bytes, Limits::default()).unwrap(),
        None
    );
}

/// A date written YYYY-MM-DD that is no day of the calendar is told so, not told to be written
/// YYYY-MM-DD.
#[test]
fn a_well_formed_date_that_never_was_is_told_so() {
    let err = import_csv(
        "key,value,date,source,passage\n\
         children.vacant_posts,64,2016-02-30,000_94efcd794c95ea6a.txt,§5\n"
            .as_bytes(),
    )
    .map(|e| e.canonical())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("e.csv:2:3: row 2, column date: `2016-02-30` is not a day of the calendar"),
        "{err}"
    );
}
