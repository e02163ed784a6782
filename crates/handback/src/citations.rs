//! Passages cited by evidence, checked against the documents they cite.
//!
//! An observation (or a Directions instrument) cites `source: {document, passage}`, where the
//! passage mixes a location with quoted fragments: `§5: 'there are 39 new social workers'`. A
//! fragment that does not stand in its document is a citation nobody can follow, as much as a rule
//! quote that does not, so fragments are held to the same test as rule quotes
//! ([`crate::check_sources`]): whitespace, typographic quotes and dashes normalised, an ellipsis
//! standing for omitted words. This module takes texts and never reads a file: the caller hands it
//! the evidence and the source documents.

use std::collections::BTreeMap;

use crate::canonical::normalise_quote;
use crate::diagnostic::{Decoder, Diagnostic};
use crate::json::{push_key, Json, Kind, Pos};
use crate::pack::SourceFile;

/// One `source: {document, passage}` found in a file, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitedPassage {
    /// The `id` of the object that cites (an observation, an instrument), when it has one.
    pub id: Option<String>,
    /// The cited document (a file name among the sources).
    pub document: String,
    /// The passage as written: location and quoted fragments.
    pub passage: String,
    /// Where `document` is, as `(line, column)`, and its JSON path.
    pub document_at: (u32, u32, String),
    /// Where `passage` is, as `(line, column)`, and its JSON path.
    pub passage_at: (u32, u32, String),
}

/// Every cited passage in a JSON file (evidence, Directions, a report), in file order: each object
/// at any depth whose `source` is an object with string `document` and `passage`.
///
/// Walking the whole tree, rather than decoding one format, lets one check serve evidence,
/// Directions and reports alike; a file that is not JSON gets its syntax error back.
pub fn cited_passages(file: &SourceFile) -> Result<Vec<CitedPassage>, Vec<Diagnostic>> {
    let mut d = Decoder::new(&file.label);
    let Some(json) = d.parse(&file.text) else {
        return Err(d.finish());
    };
    let mut out = Vec::new();
    // INVARIANT: the reader caps nesting, so this recursion is bounded.
    walk(&json, "$", &mut out);
    Ok(out)
}

fn walk(json: &Json, path: &str, out: &mut Vec<CitedPassage>) {
    match &json.kind {
        Kind::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), out);
            }
        }
        Kind::Object(members) => {
            let text = |m: &[crate::json::Member], key: &str| {
                m.iter().find(|m| m.key == key).and_then(|m| match &m.value.kind {
                    Kind::String(s) => Some((s.clone(), m.value.pos)),
                    _ => None,
                })
            };
            let source = members.iter().find(|m| m.key == "source");
            if let Some(Kind::Object(inner)) = source.map(|m| &m.value.kind) {
                if let (Some((document, dpos)), Some((passage, ppos))) =
                    (text(inner, "document"), text(inner, "passage"))
                {
                    let mut source_path = path.to_string();
                    push_key(&mut source_path, "source");
                    let at = |pos: Pos, key: &str| {
                        let mut p = source_path.clone();
                        push_key(&mut p, key);
                        (pos.line, pos.column, p)
                    };
                    out.push(CitedPassage {
                        id: text(members, "id").map(|(id, _)| id),
                        document,
                        passage,
                        document_at: at(dpos, "document"),
                        passage_at: at(ppos, "passage"),
                    });
                }
            }
            for m in members {
                let mut p = path.to_string();
                push_key(&mut p, &m.key);
                walk(&m.value, &p, out);
            }
        }
        _ => {}
    }
}

/// The quoted fragments of a passage, as written, in order.
///
/// A fragment opens at a `'` or `‘` that does not follow a letter or digit (so the apostrophe in
/// `Children's` opens nothing) and closes at the next `'` or `’` that follows a non-space and is
/// followed by the end, punctuation, or a space and then anything but a lowercase letter or
/// digit. That last clause keeps a plural possessive inside its fragment (`'the Commissioners'
/// view'`); the price is that a fragment followed directly by a lowercase word (`'x' and 'y'`)
/// runs on and fails loudly, never silently. A fragment left open runs to the end.
pub fn quoted_fragments(passage: &str) -> Vec<String> {
    fragments_after_references(passage)
        .into_iter()
        .map(|(_, fragment)| fragment)
        .collect()
}

/// The quoted fragments of a passage, each with the three-digit numbers written outside quotes
/// before it (`004 §7 'the first tranche ...'`): a passage may quote a second source by its
/// number, as the seeds' file names begin with one.
fn fragments_after_references(passage: &str) -> Vec<(Vec<String>, String)> {
    let chars: Vec<char> = passage.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    let mut outside = String::new();
    let mut references: Vec<String> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(at);
        let next = at(i + 1);
        match open {
            None => {
                let opens = match c {
                    '\u{2018}' => true,
                    '\'' => !prev.is_some_and(char::is_alphanumeric),
                    _ => false,
                };
                if opens && next.is_some_and(|n| !n.is_whitespace()) {
                    open = Some(i + 1);
                    references.extend(numbers(&outside));
                    outside.clear();
                } else {
                    outside.push(c);
                }
            }
            Some(start) => {
                let closes = matches!(c, '\'' | '\u{2019}')
                    && prev.is_some_and(|p| !p.is_whitespace())
                    && match next {
                        None => true,
                        Some(n) if n.is_whitespace() => {
                            !at(i + 2).is_some_and(|a| a.is_lowercase() || a.is_ascii_digit())
                        }
                        Some(n) => !n.is_alphanumeric(),
                    };
                if closes {
                    out.push((
                        references.clone(),
                        chars.get(start..i).unwrap_or(&[]).iter().collect(),
                    ));
                    open = None;
                }
            }
        }
    }
    if let Some(start) = open {
        out.push((references, chars.get(start..).unwrap_or(&[]).iter().collect()));
    }
    out
}

/// The standalone three-digit numbers in a stretch of text outside quotes.
fn numbers(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.len() == 3 && t.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// The source named by a three-digit reference: the one whose file name begins `NNN_`, if
/// exactly one does (otherwise the number was not a reference).
fn resolve<'a>(names: &[&'a str], reference: &str) -> Option<&'a str> {
    let prefix = format!("{reference}_");
    let mut found = names.iter().filter(|n| n.starts_with(&prefix));
    match (found.next(), found.next()) {
        (Some(name), None) => Some(name),
        _ => None,
    }
}

/// Each quoted fragment of a cited passage with the document it is to be found in: the one the
/// passage last names by number before it (among `names`), else the citation's own.
pub fn fragment_documents(cited: &CitedPassage, names: &[&str]) -> Vec<(String, String)> {
    fragments_after_references(&cited.passage)
        .into_iter()
        .map(|(references, fragment)| {
            let document = references
                .iter()
                .rev()
                .find_map(|r| resolve(names, r))
                .map_or_else(|| cited.document.clone(), str::to_string);
            (document, fragment)
        })
        .collect()
}

/// The source a passage opens by naming (`003 §2.3(c): ...`) when that is not the document the
/// citation gives: a passage from one source filed under another's name, which checking its
/// fragments alone would not catch.
pub fn misfiled(cited: &CitedPassage, names: &[&str]) -> Option<String> {
    let first = cited.passage.split_whitespace().next()?;
    let first = first.trim_end_matches([':', ',', ';']);
    if first.len() != 3 || !first.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    resolve(names, first)
        .filter(|name| *name != cited.document)
        .map(str::to_string)
}

/// Whether a fragment stands in a text already passed through [`normalise_quote`]: every part
/// between ellipses (`...` or `…`, marking omitted words) occurs, in order.
pub fn fragment_stands(normalised_text: &str, fragment: &str) -> bool {
    let fragment = normalise_quote(&fragment.replace('\u{2026}', "..."));
    let mut rest = normalised_text;
    for part in fragment.split("...").map(str::trim).filter(|p| !p.is_empty()) {
        match rest.find(part) {
            Some(i) => rest = rest.get(i + part.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

/// Checks every quoted fragment of every cited passage in `file` against the full text of the
/// document it cites (`sources`: file name and text). Each fragment that does not stand, and each
/// citation of a document not among the sources, gets a diagnostic located at the passage (or
/// the document); `folder` names where the sources came from in messages.
pub fn check_passages(file: &SourceFile, sources: &[(String, String)], folder: &str) -> Vec<Diagnostic> {
    let cited = match cited_passages(file) {
        Ok(cited) => cited,
        Err(diagnostics) => return diagnostics,
    };
    let normalised: BTreeMap<&str, String> = sources
        .iter()
        .map(|(name, text)| (name.as_str(), normalise_quote(text)))
        .collect();
    let names: Vec<&str> = normalised.keys().copied().collect();
    let mut out = Vec::new();
    for c in &cited {
        let who = c.id.as_deref().map_or_else(String::new, |id| format!("`{id}`: "));
        if !normalised.contains_key(c.document.as_str()) {
            let (line, column, path) = c.document_at.clone();
            out.push(Diagnostic {
                file: file.label.clone(),
                line,
                column,
                path,
                message: format!(
                    "{who}cites `{}`, which is not among the sources in `{folder}`",
                    c.document
                ),
            });
            continue;
        }
        let (line, column, path) = c.passage_at.clone();
        let mut report = |message: String| {
            out.push(Diagnostic {
                file: file.label.clone(),
                line,
                column,
                path: path.clone(),
                message,
            });
        };
        if let Some(named) = misfiled(c, &names) {
            report(format!(
                "{who}the passage opens by citing `{named}`, but the document given is `{}`",
                c.document
            ));
        }
        for (document, fragment) in fragment_documents(c, &names) {
            let stands = normalised
                .get(document.as_str())
                .is_some_and(|text| fragment_stands(text, &fragment));
            if !stands {
                report(format!(
                    "{who}the quoted `{fragment}` does not stand in `{document}`"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_keep_apostrophes_inside_and_split_at_their_quotes() {
        assert_eq!(
            quoted_fragments(
                "§1(e) 'the Ofsted inspection published on 19 November'; 'Rotherham was judged to be inadequate'"
            ),
            ["the Ofsted inspection published on 19 November", "Rotherham was judged to be inadequate"]
        );
        assert_eq!(
            quoted_fragments("Appendix 1, test 2: 'the Children's Directorate now has the benefit'"),
            ["the Children's Directorate now has the benefit"]
        );
        assert_eq!(
            quoted_fragments("'the Commissioners' view was clear' (§2)"),
            ["the Commissioners' view was clear"]
        );
        assert_eq!(
            quoted_fragments("Cllr Watson 'has served since May 2015' (Appendix 1 test 2: 'as is')"),
            ["has served since May 2015", "as is"]
        );
        assert_eq!(
            quoted_fragments("\u{2018}the Council\u{2019}s view\u{2019}; Appendix 2"),
            ["the Council\u{2019}s view"]
        );
        assert!(quoted_fragments("Appendix 1, test 5").is_empty());
        assert_eq!(quoted_fragments("§7: 'left open"), ["left open"]);
    }

    #[test]
    fn a_passage_may_quote_a_second_source_by_its_number() {
        let cited = |document: &str, passage: &str| CitedPassage {
            id: None,
            document: document.into(),
            passage: passage.into(),
            document_at: (1, 1, "$".into()),
            passage_at: (1, 1, "$".into()),
        };
        let names = ["000_a.txt", "004_b.txt"];
        let c = cited(
            "000_a.txt",
            "§1: 'one'; 004 §7 'two'; 'three' (811 of 2016: 'four')",
        );
        assert_eq!(
            fragment_documents(&c, &names),
            [
                ("000_a.txt".to_string(), "one".to_string()),
                ("004_b.txt".into(), "two".into()),
                ("004_b.txt".into(), "three".into()),
                ("004_b.txt".into(), "four".into()),
            ],
            "a number that names no source is no reference"
        );
        assert_eq!(misfiled(&c, &names), None);
        let c = cited("004_b.txt", "000 §2.3(c): outside appointments 'x'");
        assert_eq!(misfiled(&c, &names).as_deref(), Some("000_a.txt"));
        assert_eq!(misfiled(&cited("000_a.txt", "000 §2: 'x'"), &names), None);
    }

    #[test]
    fn an_ellipsis_stands_for_omitted_words_in_order() {
        let text = normalise_quote(
            "he will need the senior\nfinancial capacity to do so. While this has been agreed",
        );
        assert!(fragment_stands(
            &text,
            "he will need the senior financial capacity ... While this has been agreed"
        ));
        assert!(fragment_stands(&text, "the senior \u{2026} agreed"));
        assert!(
            !fragment_stands(&text, "While this ... the senior"),
            "parts must be in order"
        );
        assert!(!fragment_stands(
            &text,
            "the senior financial capacity was agreed"
        ));
    }

    #[test]
    fn check_passages_locates_each_fragment_that_does_not_stand() {
        let file = SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: r#"{"observations": [
  {"id": "a", "source": {"document": "one.txt", "passage": "§1: 'stands here'; 'not here'"}},
  {"id": "b", "source": {"document": "two.txt", "passage": "§2"}}
]}"#
            .into(),
        };
        let sources = vec![("one.txt".to_string(), "It stands  here.".to_string())];
        let found = check_passages(&file, &sources, "seeds");
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "e.json:2:60: $.observations[0].source.passage: `a`: the quoted `not here` does not stand in `one.txt`",
                "e.json:3:38: $.observations[1].source.document: `b`: cites `two.txt`, which is not among the sources in `seeds`"
            ]
        );
        let broken = SourceFile {
            text: "{".into(),
            ..file
        };
        assert_eq!(
            check_passages(&broken, &sources, "seeds").len(),
            1,
            "a syntax error, not a panic"
        );
    }
}
