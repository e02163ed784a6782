//! Directions: who holds each function's powers, on any date.
//!
//! A Directions file is a timeline of dated instruments (the Secretary of State's Directions and
//! their revisions). Each sets some functions' powers: held by the Commissioners, returned with
//! Advice, returned with a power of Direction, or returned. An instrument takes effect **from the
//! previous midnight** of its date (`004` §7): a decision taken on that day under the previous
//! Directions, even before the new ones were confirmed, may be invalid. Before the first
//! instrument every function is held.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{optional, required, At, Decoder, Diagnostic};
use crate::evidence::Source;
use crate::pack::{decode_file, LoadError, Pack, SourceFile};

/// Who holds a function's powers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// The Commissioners take the decisions.
    Held,
    /// Councillors decide; Commissioners may issue formal Advice, set aside only with reasons.
    Advice,
    /// Councillors decide; any Commissioner may direct, and the direction must be heeded.
    Direction,
    /// Councillors decide with no safeguard.
    Returned,
    /// The powers were never taken from the council: the Directions left them with it from the
    /// start (recorded so that a grid says so rather than "returned").
    NeverTaken,
    /// Taken out of the council's control altogether (to a trust or another body): neither the
    /// Commissioners nor the councillors decide. `Holding::to` says to whom.
    Transferred,
}

impl Power {
    fn parse(s: &str) -> Option<Power> {
        Some(match s {
            "held" => Power::Held,
            "advice" => Power::Advice,
            "direction" => Power::Direction,
            "returned" => Power::Returned,
            "never_taken" => Power::NeverTaken,
            "transferred" => Power::Transferred,
            _ => return None,
        })
    }

    /// Words for people.
    pub fn words(self) -> &'static str {
        match self {
            Power::Held => "held by Commissioners",
            Power::Advice => "returned with Advice",
            Power::Direction => "returned with a power of Direction",
            Power::Returned => "returned",
            Power::NeverTaken => "never taken from the council",
            Power::Transferred => "transferred",
        }
    }

    /// Whether the council's councillors take its decisions.
    pub fn is_returned(self) -> bool {
        matches!(
            self,
            Power::Advice | Power::Direction | Power::Returned | Power::NeverTaken
        )
    }

    /// Whether the Commissioners take its decisions.
    pub fn is_held(self) -> bool {
        self == Power::Held
    }
}

/// One dated instrument. It serializes in the form a Directions file is written in, so the copy
/// a report carries loads again for `verify`.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// Id.
    pub id: String,
    /// The day it takes effect (from the previous midnight).
    pub date: NaiveDate,
    /// What it is.
    pub title: String,
    /// Where it is recorded.
    pub source: Source,
    /// The power it sets for every function it does not list, if any.
    pub all: Option<Power>,
    /// The powers it sets, by function.
    pub functions: BTreeMap<String, Power>,
    /// For functions it transfers: to whom.
    pub transferred_to: BTreeMap<String, String>,
    /// For functions it returns with a safeguard that ends: the first day without it.
    pub safeguard_ends: BTreeMap<String, NaiveDate>,
    /// A note (e.g. why a day was reconstructed).
    pub note: Option<String>,
}

// Written by hand to match the hand-written `Serialize`, which writes the instrument as a
// Directions file holds it: the shape is the Directions file schema's.
impl schemars::JsonSchema for Instrument {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Instrument".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::schema::instrument()
    }
}

impl Serialize for Instrument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let functions: BTreeMap<&str, serde_json::Value> = self
            .functions
            .iter()
            .map(|(f, power)| {
                let power_word = serde_json::to_value(power).unwrap_or_default();
                let value = match (self.transferred_to.get(f), self.safeguard_ends.get(f)) {
                    (None, None) => power_word,
                    (to, until) => {
                        let mut o = serde_json::Map::new();
                        o.insert("power".into(), power_word);
                        if let Some(to) = to {
                            o.insert("to".into(), serde_json::json!(to));
                        }
                        if let Some(until) = until {
                            o.insert("until".into(), serde_json::json!(until));
                        }
                        serde_json::Value::Object(o)
                    }
                };
                (f.as_str(), value)
            })
            .collect();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("date", &self.date)?;
        map.serialize_entry("title", &self.title)?;
        map.serialize_entry("source", &self.source)?;
        if let Some(all) = &self.all {
            map.serialize_entry("all", all)?;
        }
        map.serialize_entry("functions", &functions)?;
        if let Some(note) = &self.note {
            map.serialize_entry("note", note)?;
        }
        map.end()
    }
}

/// A function's power on a date, and the instrument that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Holding {
    /// The function.
    pub function: String,
    /// Its power.
    pub power: Power,
    /// The instrument that set it (`None`: before any instrument, so held).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// That instrument's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// For a transferred function: to whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// For a safeguard that ends: the first day without it (the function is plainly returned
    /// from then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Whether the Directions had expired by the date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

/// A validated Directions timeline.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Directions {
    /// The council.
    pub(crate) council: String,
    /// Instruments in date order: [`Directions::holding`] reads the last one in force, so the
    /// fields are private and only the loader builds them.
    pub(crate) instruments: Vec<Instrument>,
    /// The day the Directions cease to have effect, if they say: from then every power the
    /// Commissioners held or kept a safeguard over is the council's again (a transfer stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<NaiveDate>,
}

impl Directions {
    /// The council.
    pub fn council(&self) -> &str {
        &self.council
    }

    /// The instruments, in date order.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The day the Directions cease to have effect, if they say.
    pub fn expires(&self) -> Option<NaiveDate> {
        self.expires
    }

    /// Loads and validates a Directions file against a pack's function catalogue.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use handback::{Directions, Power, SourceFile};
    ///
    /// let pack = handback::default_pack()?;
    /// let text = r#"{"council": "Example Council", "instruments": [
    ///   {"id": "d1", "date": "2015-02-26", "title": "Commissioners take every function", "all": "held",
    ///    "source": {"document": "Directions 2015", "passage": "para 1"}},
    ///   {"id": "d2", "date": "2016-02-15", "title": "First tranche back", "functions": {"first-tranche": "advice"},
    ///    "source": {"document": "Directions 2016", "passage": "annex"}}]}"#;
    /// let file = SourceFile { name: "d.json".into(), label: "d.json".into(), text: text.into() };
    /// let directions = Directions::load(&pack, &file)?;
    /// let day = NaiveDate::from_ymd_opt(2016, 3, 1).unwrap();
    /// assert_eq!(directions.holding("first-tranche", day).power, Power::Advice);
    /// assert_eq!(directions.holding("children-services", day).power, Power::Held);
    /// # Ok::<(), handback::LoadError>(())
    /// ```
    pub fn load(pack: &Pack, file: &SourceFile) -> Result<Directions, LoadError> {
        let mut diagnostics = Vec::new();
        let directions = decode_file(file, &mut diagnostics, |d, at| decode(d, at, pack));
        match directions {
            Some(x) if diagnostics.is_empty() => Ok(x),
            _ => Err(LoadError::new(diagnostics)),
        }
    }

    /// Every function's holding on a date (instruments dated that day already apply).
    pub fn grid(&self, pack: &Pack, date: NaiveDate) -> Vec<Holding> {
        pack.functions()
            .iter()
            .map(|f| self.holding(&f.id, date))
            .collect()
    }

    /// One function's holding on a date.
    pub fn holding(&self, function: &str, date: NaiveDate) -> Holding {
        let mut holding = Holding {
            function: function.to_string(),
            power: Power::Held,
            since: None,
            instrument: None,
            to: None,
            until: None,
            expired: false,
        };
        let in_force = |i: &&Instrument| i.date <= date && self.expires.is_none_or(|e| i.date < e);
        for i in self.instruments.iter().filter(in_force) {
            if let Some(power) = i.functions.get(function).copied().or(i.all) {
                holding.power = power;
                holding.since = Some(i.date);
                holding.instrument = Some(i.id.clone());
                holding.to = i.transferred_to.get(function).cloned();
                holding.until = i.safeguard_ends.get(function).copied();
            }
        }
        // A safeguard that has ended leaves the function plainly returned.
        if let Some(end) = holding.until.filter(|end| *end <= date) {
            holding.power = Power::Returned;
            holding.since = Some(end);
        }
        if let Some(expiry) = self.expires.filter(|e| *e <= date) {
            holding.expired = true;
            if matches!(holding.power, Power::Held | Power::Advice | Power::Direction) {
                holding.power = Power::Returned;
                holding.since = Some(expiry);
                holding.until = None;
            }
        }
        holding
    }

    /// The instruments that take effect on a day.
    pub fn taking_effect(&self, date: NaiveDate) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter().filter(move |i| i.date == date)
    }
}

fn decode(d: &mut Decoder, at: At<'_, '_>, pack: &Pack) -> Option<Directions> {
    let obj = d.object(at, &["council", "title", "expires", "instruments"])?;
    let council = required(d, &obj, "council", |d, at| d.text(at));
    let _title = optional(d, &obj, "title", |d, at| d.text(at));
    let expires = optional(d, &obj, "expires", |d, at| d.date(at));
    let items = required(d, &obj, "instruments", |d, at| d.array(at))?;
    let mut instruments: Vec<(Instrument, crate::json::Pos, String)> = Vec::new();
    let ids: Vec<&str> = pack.functions().iter().map(|f| f.id.as_str()).collect();
    let mut seen_ids: BTreeMap<String, crate::json::Pos> = BTreeMap::new();
    for (json, path) in items {
        let at = At { json, path: &path };
        // Duplicate ids are found on the raw ids, so an instrument with other problems counts.
        if let Some((id, pos)) = crate::diagnostic::member_string(json, "id") {
            match seen_ids.get(&id) {
                Some(first) => d.report(
                    pos,
                    &format!("{path}.id"),
                    format!("duplicate instrument id `{id}` (first at {first})"),
                ),
                None => {
                    seen_ids.insert(id, pos);
                }
            }
        }
        let Some(o) = d.object(at, &["id", "date", "title", "source", "all", "functions", "note"]) else {
            continue;
        };
        let id = required(d, &o, "id", |d, at| d.id(at));
        let date = required(d, &o, "date", |d, at| d.date(at));
        let title = required(d, &o, "title", |d, at| d.text(at));
        let source = required(d, &o, "source", |d, at| {
            let s = d.object(at, &["document", "passage"])?;
            let document = required(d, &s, "document", |d, at| d.text(at));
            let passage = required(d, &s, "passage", |d, at| d.text(at));
            Some(Source {
                document: document?,
                passage: passage?,
            })
        });
        let all = optional(d, &o, "all", decode_power);
        let note = optional(d, &o, "note", |d, at| d.text(at));
        let functions = optional(d, &o, "functions", |d, at| {
            let crate::json::Kind::Object(members) = &at.json.kind else {
                d.error(
                    at,
                    format!(
                        "expected an object of function ids and powers, found {}",
                        at.json.type_name()
                    ),
                );
                return None;
            };
            let mut out = BTreeMap::new();
            for m in members {
                let mut p = at.path.to_string();
                crate::json::push_key(&mut p, &m.key);
                if !ids.contains(&m.key.as_str()) {
                    let hint = crate::diagnostic::did_you_mean(&m.key, &ids);
                    d.report(m.key_pos, &p, format!("unknown function `{}`{hint}", m.key));
                    continue;
                }
                if let Some(setting) = decode_setting(
                    d,
                    At {
                        json: &m.value,
                        path: &p,
                    },
                ) {
                    out.insert(m.key.clone(), setting);
                }
            }
            Some(out)
        })
        .unwrap_or_default();
        let date_for_end = date;
        let mut transferred_to = BTreeMap::new();
        let mut safeguard_ends = BTreeMap::new();
        let functions: BTreeMap<String, Power> = functions
            .into_iter()
            .map(|(f, s): (String, Setting)| {
                if let Some(to) = s.to {
                    transferred_to.insert(f.clone(), to);
                }
                let end = match (s.until, s.for_months, date_for_end) {
                    (Some(u), _, _) => Some(u),
                    (None, Some(m), Some(start)) => start.checked_add_months(chrono::Months::new(m)),
                    _ => None,
                };
                if let Some(end) = end {
                    safeguard_ends.insert(f.clone(), end);
                }
                (f, s.power)
            })
            .collect();
        if functions.is_empty() && all.is_none() {
            d.error(
                at,
                "an instrument sets powers: give `functions`, `all`, or both".into(),
            );
        }
        if let (Some(id), Some(date), Some(title), Some(source)) = (id, date, title, source) {
            instruments.push((
                Instrument {
                    id,
                    date,
                    title,
                    source,
                    all,
                    functions,
                    transferred_to,
                    safeguard_ends,
                    note,
                },
                json.pos,
                path,
            ));
        }
    }
    // Overlaps: two instruments taking effect the same day may not set the same function, nor may
    // two ids repeat; which would win is not something a reader should have to guess.
    //
    // Only instruments on the same day are compared (grouped by date, in file order), and only
    // those that set something; after `MOST_OVERLAPS` overlaps the check stops, since a file that
    // bad needs rewriting, and listing every pair of thousands of instruments would take
    // quadratic time and output.
    const MOST_OVERLAPS: usize = 100;
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut by_date: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for (i, (instrument, _, _)) in instruments.iter().enumerate() {
        if !instrument.functions.is_empty() || instrument.all.is_some() {
            by_date.entry(instrument.date).or_default().push(i);
        }
    }
    let same_day_pairs = by_date.values().flat_map(|group| {
        group
            .iter()
            .enumerate()
            .flat_map(move |(k, a)| group.iter().skip(k + 1).map(move |b| (*a, *b)))
    });
    for (a, b) in same_day_pairs {
        if problems.len() >= MOST_OVERLAPS {
            if let Some((_, pos, path)) = instruments.get(b) {
                problems.push(Diagnostic {
                    file: d.file.clone(),
                    line: pos.line,
                    column: pos.column,
                    path: path.clone(),
                    message: format!(
                        "more than {MOST_OVERLAPS} overlapping instruments; merge those listed and check again"
                    ),
                });
            }
            break;
        }
        let (Some((a, _, _)), Some((b, pos, path))) = (instruments.get(a), instruments.get(b)) else {
            continue;
        };
        {
            let report = |message: String| Diagnostic {
                file: d.file.clone(),
                line: pos.line,
                column: pos.column,
                path: path.clone(),
                message,
            };
            if a.date == b.date {
                let shared: Vec<&String> = b
                    .functions
                    .keys()
                    .filter(|f| a.functions.contains_key(*f))
                    .collect();
                if !shared.is_empty() || a.all.is_some() || b.all.is_some() {
                    let what = if shared.is_empty() {
                        "powers for every function (`all`)".to_string()
                    } else {
                        crate::diagnostic::ticked(&shared, ", ")
                    };
                    problems.push(report(format!(
                        "instrument `{}` overlaps `{}`: both take effect on {} and set {what}; merge them into one instrument",
                        b.id, a.id, b.date
                    )));
                }
            }
        }
    }
    // An instrument dated on or after the expiry would never apply: almost certainly a wrong date.
    if let Some(expiry) = expires {
        for (i, pos, path) in &instruments {
            if i.date >= expiry {
                problems.push(Diagnostic {
                    file: d.file.clone(),
                    line: pos.line,
                    column: pos.column,
                    path: path.clone(),
                    message: format!(
                        "instrument `{}` takes effect on {}, but the Directions expire on {expiry}: it would never apply",
                        i.id, i.date
                    ),
                });
            }
        }
    }
    d.diagnostics.extend(problems);
    let mut instruments: Vec<Instrument> = instruments.into_iter().map(|(i, _, _)| i).collect();
    // INVARIANT: instruments are in date order, so a holding is the last one that applies.
    // Same-day instruments never set the same function and never use `all` (checked above), so
    // their order among themselves cannot matter.
    instruments.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Some(Directions {
        council: council?,
        instruments,
        expires,
    })
}

/// What an instrument sets for one function: a power, or `{power, to}` for a transfer, or
/// `{power, until | for_months}` for a safeguard that ends.
struct Setting {
    power: Power,
    to: Option<String>,
    until: Option<NaiveDate>,
    for_months: Option<u32>,
}

fn decode_setting(d: &mut Decoder, at: At<'_, '_>) -> Option<Setting> {
    if !matches!(at.json.kind, crate::json::Kind::Object(_)) {
        return decode_power(d, at).map(|power| Setting {
            power,
            to: None,
            until: None,
            for_months: None,
        });
    }
    let o = d.object(at, &["power", "to", "until", "for_months"])?;
    let power = required(d, &o, "power", decode_power)?;
    let to = optional(d, &o, "to", |d, at| d.text(at));
    let until = optional(d, &o, "until", |d, at| d.date(at));
    let for_months = optional(d, &o, "for_months", |d, at| d.count(at, 1, 1200));
    match power {
        Power::Transferred if to.is_none() => {
            d.error(
                at,
                "a transfer says to whom: `{\"power\": \"transferred\", \"to\": \"…\"}`".into(),
            );
        }
        Power::Transferred => {}
        _ if to.is_some() => d.error(at, "`to` is for `transferred` powers".into()),
        _ => {}
    }
    if until.is_some() || for_months.is_some() {
        if !matches!(power, Power::Advice | Power::Direction) {
            d.error(
                at,
                "only a safeguard (`advice` or `direction`) can end: `until` and `for_months` are for those"
                    .into(),
            );
        }
        if until.is_some() && for_months.is_some() {
            d.error(at, "give `until` or `for_months`, not both".into());
        }
    }
    Some(Setting {
        power,
        to,
        until,
        for_months,
    })
}

fn decode_power(d: &mut Decoder, at: At<'_, '_>) -> Option<Power> {
    let s = d.string(at)?;
    let p = Power::parse(&s);
    if p.is_none() {
        d.error(
            at,
            format!("unknown power `{s}`; expected `held`, `advice`, `direction`, `returned`, `never_taken` or `transferred`"),
        );
    }
    p
}
