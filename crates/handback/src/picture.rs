//! The function graph as a picture: DOT for Graphviz users, and a self-contained SVG that any
//! browser opens with nothing else installed.
//!
//! Functions are laid out in layers by prerequisite depth (a function sits below everything it
//! depends on), coloured by who holds them, and labelled with when they can come back. The SVG is
//! written by hand, with every text escaped, so the output is deterministic and needs no layout
//! engine.

use std::fmt::Write as _;

use crate::directions::Power;
use crate::pack::Pack;
use crate::plan::{Plan, Step};

struct Node<'a> {
    id: &'a str,
    title: &'a str,
    power: Power,
    label: String,
    layer: usize,
    recommended: bool,
    awaiting: bool,
}

fn nodes<'a>(pack: &'a Pack, plan: Option<&Plan>) -> Vec<Node<'a>> {
    let functions = pack.functions();
    // Longest prerequisite chain below each function; the catalogue is acyclic, so iterating
    // as many times as there are functions settles every depth.
    let mut layer = vec![0usize; functions.len()];
    for _ in 0..functions.len() {
        for (i, f) in functions.iter().enumerate() {
            let depth = f
                .prerequisites
                .iter()
                .filter_map(|p| functions.iter().position(|x| x.id == p.function))
                .map(|j| layer.get(j).copied().unwrap_or(0) + 1)
                .max()
                .unwrap_or(0);
            if let Some(slot) = layer.get_mut(i) {
                *slot = depth;
            }
        }
    }
    functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let planned = plan.and_then(|p| p.functions.iter().find(|x| x.id == f.id));
            let power = planned.map(|p| p.power).unwrap_or(Power::Held);
            let label = match planned {
                Some(p) => match (p.step, p.projected_phase) {
                    (Step::Returned | Step::Transferred, _) => match &p.to {
                        Some(to) => format!("{} ({to})", power.words()),
                        None => power.words().to_string(),
                    },
                    (Step::AwaitingDecision, _) => "recommended, awaiting the decision".to_string(),
                    (Step::Now, Some(n)) => format!("ready now (phase {n})"),
                    (Step::Later, Some(n)) => format!("later (phase {n} at the earliest)"),
                    (Step::AtExit, _) => "at the end of the intervention".to_string(),
                    _ => String::new(),
                },
                None => "held".to_string(),
            };
            Node {
                id: &f.id,
                title: &f.title,
                power,
                label,
                layer: layer.get(i).copied().unwrap_or(0),
                recommended: planned.is_some_and(|p| p.step == Step::Now),
                awaiting: planned.is_some_and(|p| p.step == Step::AwaitingDecision),
            }
        })
        .collect()
}

fn colour(power: Power) -> (&'static str, &'static str) {
    // (fill, stroke): held red, Advice amber, Direction yellow, returned green.
    match power {
        Power::Held => ("#f8d7da", "#a4161a"),
        Power::Advice => ("#ffe8cc", "#d9480f"),
        Power::Direction => ("#fff3bf", "#e67700"),
        Power::Returned => ("#d3f9d8", "#2b8a3e"),
        Power::NeverTaken => ("#ebfbee", "#2b8a3e"),
        Power::Transferred => ("#e9ecef", "#495057"),
    }
}

/// The graph in Graphviz DOT: one node per function, an edge from each prerequisite.
pub fn dot(pack: &Pack, plan: Option<&Plan>) -> String {
    let mut out = String::from("digraph functions {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    for n in nodes(pack, plan) {
        let (fill, stroke) = colour(n.power);
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\", fillcolor=\"{fill}\", color=\"{stroke}\"];",
            dot_escape(n.id),
            dot_escape(n.id),
            dot_escape(&n.label)
        );
    }
    for f in pack.functions() {
        for p in &f.prerequisites {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\";",
                dot_escape(&p.function),
                dot_escape(&f.id)
            );
        }
    }
    out.push_str("}\n");
    out
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const BOX_W: usize = 250;
const BOX_H: usize = 54;
const GAP_X: usize = 24;
const GAP_Y: usize = 56;
const PER_ROW: usize = 5;
const MARGIN: usize = 24;

/// The graph as a standalone SVG.
///
/// ```
/// let pack = handback::default_pack()?;
/// let picture = handback::graph::svg(&pack, None, "Functions and their prerequisites");
/// assert!(picture.starts_with("<svg") && picture.contains("children-services"));
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn svg(pack: &Pack, plan: Option<&Plan>, title: &str) -> String {
    let nodes = nodes(pack, plan);
    let layers = nodes.iter().map(|n| n.layer).max().map_or(0, |m| m + 1);
    // Each layer wraps into rows of PER_ROW boxes.
    let mut positions = vec![(0usize, 0usize); nodes.len()];
    let mut y = MARGIN + 40;
    for layer in 0..layers {
        let mut members: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes.get(i).is_some_and(|n| n.layer == layer))
            .collect();
        // Functions others depend on go last, so they sit in the row just above their dependents
        // and the edges drop straight down instead of crossing other boxes.
        let depended_on = |i: &usize| {
            let id = nodes.get(*i).map(|n| n.id).unwrap_or("");
            pack.functions()
                .iter()
                .any(|f| f.prerequisites.iter().any(|p| p.function == id))
        };
        members.sort_by_key(|i| depended_on(i));
        for (k, &i) in members.iter().enumerate() {
            if let Some(slot) = positions.get_mut(i) {
                *slot = (
                    MARGIN + (k % PER_ROW) * (BOX_W + GAP_X),
                    y + (k / PER_ROW) * (BOX_H + GAP_Y / 2),
                );
            }
        }
        let rows = members.len().div_ceil(PER_ROW).max(1);
        y += rows * (BOX_H + GAP_Y / 2) + GAP_Y / 2;
    }
    let width = MARGIN * 2 + PER_ROW * BOX_W + (PER_ROW - 1) * GAP_X;
    let height = y + 92;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    let _ = writeln!(out, "<title>{}</title>", xml_escape(title));
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#495057\"/></marker></defs>\n");
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\">{}</text>",
        MARGIN + 8,
        xml_escape(title)
    );
    // Edges first, so boxes sit on top of them.
    for (i, f) in pack.functions().iter().enumerate() {
        for p in &f.prerequisites {
            let Some(j) = pack.functions().iter().position(|x| x.id == p.function) else {
                continue;
            };
            let (Some(&(x1, y1)), Some(&(x2, y2))) = (positions.get(j), positions.get(i)) else {
                continue;
            };
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#495057\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"><title>{}</title></line>",
                x1 + BOX_W / 2,
                y1 + BOX_H,
                x2 + BOX_W / 2,
                y2,
                xml_escape(&format!("{} before {}: {}", p.function, f.id, p.reason))
            );
        }
    }
    for (n, &(x, y)) in nodes.iter().zip(&positions) {
        let (fill, mut stroke) = colour(n.power);
        // Held but recommended now: a dashed green border.
        let dash = if n.recommended {
            stroke = "#2b8a3e";
            " stroke-dasharray=\"6 3\""
        } else if n.awaiting {
            // Recommended and still held: a dotted green border (the label says so too).
            stroke = "#2b8a3e";
            " stroke-dasharray=\"2 3\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<g><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#343a40\">{}</text></g>",
            xml_escape(n.title),
            x + 10,
            y + 22,
            xml_escape(n.id),
            x + 10,
            y + 41,
            xml_escape(&n.label)
        );
    }
    let legend_y = height - 58;
    // The two rarer states join the legend only when a function is in them.
    let shown: Vec<Power> = [Power::Held, Power::Advice, Power::Direction, Power::Returned]
        .into_iter()
        .chain(
            [Power::NeverTaken, Power::Transferred]
                .into_iter()
                .filter(|p| nodes.iter().any(|n| n.power == *p)),
        )
        .collect();
    for (k, power) in shown.into_iter().enumerate() {
        let (fill, stroke) = colour(power);
        let x = MARGIN + k * 250;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{legend_y}\" width=\"18\" height=\"18\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 26,
            legend_y + 14,
            power.words()
        );
    }
    for (k, (dash, words)) in [("4 2", "recommended now"), ("2 3", "awaiting the decision")]
        .into_iter()
        .enumerate()
    {
        // A second row, so the legend fits the narrowest picture.
        let x = MARGIN + k * 250;
        let y = legend_y + 22;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"18\" height=\"18\" rx=\"4\" fill=\"#ffffff\" stroke=\"#2b8a3e\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{words}</text>",
            x + 26,
            y + 14
        );
    }
    out.push_str("</svg>\n");
    out
}
