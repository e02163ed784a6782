//! A pack's rules written out as Rust: straight code over the values in force, for embedding
//! tools that assess one pack very many times and can compile it into their build.
//!
//! The interpreter ([`Program`]) reads a row of metadata for every leaf (its cell, kind, age
//! limit, threshold, the truths of each ordering) and dispatches on the rule's shape; the
//! generated code has all of those as constants in the compiled code, so a latest-value leaf
//! is a load of its cell and a few comparisons. It covers what the interpreter's common case
//! covers (latest-value comparisons over the values in force, `all`/`any` groups, references,
//! graded rules' levels) and hands the rest back to the interpreter through [`Run`] (other
//! tests, text, fallbacks, rules with `at_least`, `not` or shared subtrees), so every pack can be
//! written out and the outcomes are the interpreter's.
//!
//! The code is tied to the program it was written from by [`Program::fingerprint`]: run over
//! any other (another pack, another version of this crate), [`Indexed::outcomes_generated`]
//! ignores it and interprets.
//!
//! [`Indexed::outcomes_generated`]: super::Indexed::outcomes_generated
//! [`Run`]: super::Run

use std::fmt::Write as _;

use super::{Block, Part, Program, Quick, RuleCode};
use crate::assess::Truth;
use crate::pack::Pack;

/// Writes `pack`'s rules as Rust: a constant `GENERATED` (a `handback::bulk::generated::Generated`)
/// to pass to `Indexed::outcomes_generated`, and the function it names. The text is meant to
/// be written by a build script to `OUT_DIR` and `include!`d in a module of its own; the same
/// pack and crate version always give the same text.
///
/// ```
/// let pack = handback::default_pack()?;
/// let code = handback::bulk::generate_rust(&pack);
/// assert!(code.contains("pub const GENERATED"));
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn rust(pack: &Pack) -> String {
    let program = &pack.program;
    let mut w = String::new();
    let _ = writeln!(
        w,
        "// Written by handback {} (`handback::bulk::generate_rust`) from the rules of the pack\n\
         // {:?}. Do not edit: write it again when the pack or the crate changes (the fingerprint\n\
         // below no longer matches, and the interpreter answers instead).\n",
        env!("CARGO_PKG_VERSION"),
        format!("{} {}", pack.manifest.id, pack.manifest.version),
    );
    let _ = writeln!(
        w,
        "/// The rules of {:?}, for `handback::bulk::Indexed::outcomes_generated`.\n\
         pub const GENERATED: ::handback::bulk::generated::Generated = \
         ::handback::bulk::generated::Generated {{\n    fingerprint: {:#018x},\n    run,\n}};\n",
        pack.manifest.id,
        program.fingerprint(),
    );
    let _ = write!(
        w,
        "#[allow(unused_variables, unused_labels, clippy::all, clippy::pedantic)]\n\
         fn run(r: &mut ::handback::bulk::generated::Run<'_>) {{\n    \
         use ::handback::Truth;\n    \
         let Ok(cells) = <&[::handback::bulk::generated::Cell; {cells}]>::try_from(r.cells()) else {{\n        \
         r.interpret();\n        return;\n    }};\n    \
         let as_of = r.as_of();\n",
        cells = program.cells.len(),
    );
    // The first day still fresh under each age limit the leaves apply, worked out once.
    let limits: std::collections::BTreeSet<u32> = program
        .quick
        .iter()
        .filter(|q| q.kind != Quick::SLOW && q.fast_kind != Quick::NEVER && q.limit != u32::MAX)
        .map(|q| q.limit)
        .collect();
    for limit in limits {
        let _ = writeln!(w, "    let fresh_{limit} = as_of - {limit};");
    }
    let mut labels = 0;
    for &rule in &program.order {
        let id = pack.rules.get(rule).map_or("", |r| r.id.as_str());
        let _ = writeln!(w, "    // {id}");
        let code = program.rule_code(rule, &mut labels);
        w.push_str(&code);
    }
    w.push_str("}\n");
    w
}

impl Program {
    /// The code of rule `rule`: its outcomes for every subject, or a call to the interpreter.
    fn rule_code(&self, rule: usize, labels: &mut usize) -> String {
        let (Some(code), Some(&offset), Some(&end)) = (
            self.rules.get(rule),
            self.offsets.get(rule),
            self.offsets.get(rule + 1),
        ) else {
            return String::new();
        };
        let Some(body) = (match code {
            RuleCode::Test(block) => self
                .block_code(block, labels)
                .map(|t| format!("::handback::bulk::Outcome::Test({t})")),
            RuleCode::Graded(levels) => self.graded_code(levels, labels),
        }) else {
            return format!("    r.rule({rule});\n");
        };
        if self.per_function.get(rule).copied().unwrap_or(false) {
            format!(
                "    for s in 0..{subjects}usize {{\n        let subject = Some(s);\n        \
                 let own = s + 1;\n        let outcome = {body};\n        r.put({offset} + s, outcome);\n    }}\n",
                subjects = end.saturating_sub(offset),
            )
        } else {
            format!(
                "    {{\n        let subject: Option<usize> = None;\n        let own = 0usize;\n        \
                 let outcome = {body};\n        r.put({offset}, outcome);\n    }}\n"
            )
        }
    }

    /// A graded rule's outcome as an expression: its levels best first, the first met (or
    /// without a condition) reached, unknown above it making it the level that certainly holds,
    /// as `grade` has it; `None` when a level's condition has another shape.
    fn graded_code(&self, levels: &[(usize, Option<Block>)], labels: &mut usize) -> Option<String> {
        *labels += 1;
        let label = format!("'l{labels}");
        let undetermined = format!("undetermined_{labels}");
        let reached = |rank: usize| {
            format!(
                "if {undetermined} {{ ::handback::bulk::Outcome::Graded {{ level: None, at_least: Some({rank}) }} }} \
                 else {{ ::handback::bulk::Outcome::Graded {{ level: Some({rank}), at_least: None }} }}"
            )
        };
        let mut w = format!("{label}: {{\n            let mut {undetermined} = false;\n");
        for (rank, block) in levels {
            match block {
                Some(block) => {
                    let t = self.block_code(block, labels)?;
                    let _ = writeln!(
                        w,
                        "            match {t} {{\n                \
                         Truth::Met => break {label} {},\n                \
                         Truth::Unknown => {undetermined} = true,\n                \
                         Truth::NotMet => {{}}\n            }}",
                        reached(*rank)
                    );
                }
                None => {
                    let _ = writeln!(w, "            break {label} {};", reached(*rank));
                }
            }
        }
        w.push_str("            #[allow(unreachable_code)]\n            ::handback::bulk::Outcome::Graded { level: None, at_least: None }\n        }");
        Some(w)
    }

    /// A condition's truth as an expression; `None` for code of another shape.
    fn block_code(&self, block: &Block, labels: &mut usize) -> Option<String> {
        match *block {
            Block::Leaf(i) => Some(self.leaf_code(i)),
            Block::Leaves { all, from, to } => self.group_code(all, &[Part::Leaves(from, to)], labels),
            Block::Refs { all, from, to } => self.group_code(all, &[Part::Refs(from, to)], labels),
            Block::Group { all, from, to } => {
                let parts = self.parts.get(from as usize..to as usize)?;
                self.group_code(all, parts, labels)
            }
            Block::Code(_) => None,
        }
    }

    /// An `all` (`all`) or `any` of `parts` as a labelled block: each part in turn, leaving
    /// with the settling truth at the first part that has it (not met for an `all`, met for an
    /// `any`), as the interpreter does; otherwise unknown if some part was, else the identity.
    /// (The interpreter's `min`/`max` fold gives the same.)
    fn group_code(&self, all: bool, parts: &[Part], labels: &mut usize) -> Option<String> {
        *labels += 1;
        let label = format!("'g{labels}");
        let unknown = format!("unknown_{labels}");
        let (identity, settled) = if all { ("Met", "NotMet") } else { ("NotMet", "Met") };
        let mut w = format!("{label}: {{\n            let mut {unknown} = false;\n");
        let item = |w: &mut String, expr: String| {
            let _ = writeln!(
                w,
                "            match {expr} {{\n                \
                 Truth::{settled} => break {label} Truth::{settled},\n                \
                 Truth::Unknown => {unknown} = true,\n                \
                 Truth::{identity} => {{}}\n            }}"
            );
        };
        for part in parts {
            match *part {
                Part::Leaves(from, to) => {
                    for i in from..to {
                        item(&mut w, self.leaf_code(i));
                    }
                }
                Part::Refs(from, to) => {
                    for i in from..to {
                        item(&mut w, format!("r.reference({i}, subject)"));
                    }
                }
                Part::Group { all, from, to } => {
                    let inner = self.parts.get(from as usize..to as usize)?;
                    let code = self.group_code(all, inner, labels)?;
                    item(&mut w, code);
                }
            }
        }
        let _ = write!(
            w,
            "            if {unknown} {{ Truth::Unknown }} else {{ Truth::{identity} }}\n        }}"
        );
        Some(w)
    }

    /// Leaf `i`'s truth: its common case (as [`Quick::decide`]'s: a value of the threshold's
    /// kind at the parameters' defaults, or nothing in force where no fallback applies) as
    /// constants, the rest by the interpreter.
    fn leaf_code(&self, i: u32) -> String {
        let long = format!("r.leaf({i}, subject)");
        let Some(q) = self.quick.get(i as usize) else {
            return long;
        };
        if q.kind == Quick::SLOW || (q.fast_kind == Quick::NEVER && q.unseen.is_none()) {
            return long;
        }
        // A fixed cell is a constant index into the cells (an array of their number: checked
        // when the code is compiled); the subject's own is looked up.
        let mut w = if q.subject {
            format!(
                "match cells.get({} + own) {{\n                Some(&c) => ",
                q.cell
            )
        } else {
            format!("{{\n                let c = cells[{}];\n                ", q.cell)
        };
        if q.fast_kind != Quick::NEVER {
            let want = format!("f64::from_bits({:#x})", q.fast_want.to_bits());
            let (below, equal, above) = (truth(q.below), truth(q.equal), truth(q.above));
            // Booleans, grade ranks and day numbers always compare (only a number could be
            // NaN, which compares with nothing: unknown, as the interpreter has it).
            let ordered = if q.fast_kind == 2 {
                format!(
                    "if c.x < {want} {{ {below} }} else if c.x > {want} {{ {above} }} \
                     else if c.x == {want} {{ {equal} }} else {{ Truth::Unknown }}"
                )
            } else if below == above {
                format!("if c.x == {want} {{ {equal} }} else {{ {below} }}")
            } else {
                format!(
                    "if c.x == {want} {{ {equal} }} else if c.x < {want} {{ {below} }} else {{ {above} }}"
                )
            };
            // Values older than the age limit are not in force (no limit: a day number's
            // distance never exceeds u32::MAX).
            let fresh = if q.limit == u32::MAX {
                ordered
            } else {
                format!(
                    "if i64::from(c.day) < fresh_{limit} {{ Truth::Unknown }} else {{ {ordered} }}",
                    limit = q.limit
                )
            };
            let _ = write!(
                w,
                "if c.kind == {kind} {{\n                    {fresh}\n                }} else ",
                kind = q.fast_kind,
            );
        }
        if let Some(unseen) = q.unseen {
            let _ = write!(
                w,
                "if c.kind == {} {{\n                    {}\n                }} else ",
                super::UNSEEN,
                truth(unseen)
            );
        }
        let _ = write!(w, "{{\n                    {long}\n                }}");
        if q.subject {
            let _ = write!(w, "\n                None => {long},\n            }}");
        } else {
            w.push_str("\n            }");
        }
        w
    }
}

/// A truth as code.
fn truth(t: Truth) -> &'static str {
    match t {
        Truth::Met => "Truth::Met",
        Truth::NotMet => "Truth::NotMet",
        Truth::Unknown => "Truth::Unknown",
    }
}
