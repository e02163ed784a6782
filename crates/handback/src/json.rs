//! A JSON reader that remembers where every value came from.
//!
//! serde_json stops at the first error and forgets positions once a value is built, but Handback
//! must report *every* problem in a pack or evidence file with its line, column and JSON path.
//! So input is first read into this position-carrying tree, and the loaders walk the tree,
//! collecting diagnostics as they go. The reader is strict where silent leniency would hide a
//! mistake: duplicate object keys are rejected (no last-wins), numbers must be finite, and nesting
//! is capped so that no input can exhaust the stack. It never panics on any input.

use std::fmt;

/// Deepest nesting of arrays and objects accepted by default; far beyond any real pack or
/// evidence file, low enough that recursive walkers over the tree cannot overflow the stack.
pub const MAX_DEPTH: usize = 128;

/// The most a caller may raise the depth limit to: recursion this deep still fits the smallest
/// default thread stack (2 MiB) in a debug build. 512 did not: a rule condition nested about
/// 400 deep overflowed a test thread (`tests/deep.rs`); 256 passes every walk.
pub const DEPTH_CEILING: usize = 256;

/// A line and column (both 1-based, columns counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A JSON value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub pos: Pos,
    pub kind: Kind,
}

/// The shape of a [`Json`] value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    /// Members in file order, each with the position of its key.
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_pos: Pos,
    pub value: Json,
}

impl Json {
    /// The name of this value's JSON type, as used in "expected …, found …" messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Array(_) => "an array",
            Kind::Object(_) => "an object",
        }
    }
}

/// Why a text is not acceptable JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    /// The JSON path of the innermost value being read when the error was found.
    pub path: String,
    pub message: String,
}

/// Reads a whole text as one JSON value. A leading UTF-8 byte-order mark is skipped, since
/// spreadsheet exports often write one and it carries no meaning.
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    parse_with_depth(text, MAX_DEPTH)
}

/// Reads a whole text, accepting nesting up to `max_depth` (capped at [`DEPTH_CEILING`]).
pub fn parse_with_depth(text: &str, max_depth: usize) -> Result<Json, SyntaxError> {
    parse_inner(text, max_depth, None)
}

/// As [`parse_with_depth`], but the elements of one array are handed over as they are read
/// instead of being kept: when the whole text is an object with a member `key` whose value is
/// an array, each element goes to `sink` with its index and how many bytes of the text have been
/// read once it is (so a caller can foresee how many more there are), and that array is left empty in the
/// tree returned. A loader decodes each element and drops its tree, so a document of a million
/// observations is never held as a million trees at once. Whatever is handed over before a
/// syntax error later in the text is the caller's to discard.
pub fn parse_streaming(
    text: &str,
    max_depth: usize,
    key: &str,
    sink: &mut dyn FnMut(Json, usize, usize),
) -> Result<Json, SyntaxError> {
    parse_inner(text, max_depth, Some((key, sink)))
}

/// The name of the top-level member whose array is streamed, and where its elements go (each
/// with its index and the bytes read so far).
pub(crate) type Sink<'a> = (&'a str, &'a mut dyn FnMut(Json, usize, usize));

fn parse_inner<'a>(text: &'a str, max_depth: usize, sink: Option<Sink<'a>>) -> Result<Json, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader {
        at: 0,
        text,
        pos: Pos { line: 1, column: 1 },
        path: vec![],
        max_depth: max_depth.min(DEPTH_CEILING),
        sink,
        stream_next: false,
    };
    reader.skip_ws();
    if reader.peek().is_none() {
        return Err(reader.error("expected a JSON value, found an empty file".into()));
    }
    let value = reader.value(0)?;
    reader.skip_ws();
    if let Some(c) = reader.peek() {
        return Err(reader.error(format!(
            "expected the end of the file after the JSON value, found {}",
            describe(c)
        )));
    }
    Ok(value)
}

/// Renders a path of segments as `$.a[3].b`.
pub fn render_path(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    // A path through very deep input is elided in the middle so that messages stay readable.
    let (head, tail) = if segments.len() > 12 {
        (
            segments.get(..8).unwrap_or(&[]),
            segments.get(segments.len() - 2..).unwrap_or(&[]),
        )
    } else {
        (segments, &[][..])
    };
    render_segments(head, &mut out);
    if !tail.is_empty() {
        out.push_str(&format!(
            "...({} levels)...",
            segments.len() - head.len() - tail.len()
        ));
        render_segments(tail, &mut out);
    }
    out
}

fn render_segments(segments: &[Segment], out: &mut String) {
    for s in segments {
        match s {
            Segment::Key(k) => push_key(out, k),
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

/// `path[index]`, in one allocation (a path is made for every element read).
pub fn index_path(path: &str, index: usize) -> String {
    let mut out = String::with_capacity(path.len() + 22);
    out.push_str(path);
    out.push('[');
    push_decimal(&mut out, index);
    out.push(']');
    out
}

/// Appends `n` in decimal, without `format!`'s machinery: paths and scenario ids write one for
/// every element and observation, where it was a noticeable part of the time.
pub(crate) fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut from = digits.len();
    let mut rest = n;
    loop {
        from -= 1;
        if let Some(d) = digits.get_mut(from) {
            *d = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || from == 0 {
            break;
        }
    }
    out.extend(
        digits
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|&d| char::from(d)),
    );
}

/// Appends `.key` (or `["key"]` when the key is not a plain identifier) to a path.
pub fn push_key(out: &mut String, key: &str) {
    let bytes = key.as_bytes();
    // A path is made for every member read: the common case (a plain key) is one table lookup
    // a byte, and only other keys are looked at again for quotes and backslashes.
    let identifier = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| IDENTIFIER.get(usize::from(b)).copied().unwrap_or(false));
    let escapes = !identifier && bytes.iter().any(|&b| b == b'"' || b == b'\\');
    if identifier {
        out.push('.');
        out.push_str(key);
    } else if !escapes {
        out.push_str("[\"");
        out.push_str(key);
        out.push_str("\"]");
    } else {
        out.push_str("[\"");
        for c in key.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push_str("\"]");
    }
}

/// The bytes of a key written plainly in a path (`.key`): ASCII letters, digits, `_` and `-`.
#[allow(clippy::indexing_slicing)] // indices below 256, checked when the table is built
static IDENTIFIER: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

/// The length of the run of plain string bytes at the start of `bytes`: up to the first quote,
/// backslash or control character. A plain loop, so it stays quick even unoptimised.
fn plain_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| ENDS_A_RUN.get(usize::from(b)).copied().unwrap_or(true))
        .unwrap_or(bytes.len())
}

/// The characters in a run of text, which the column counts: its bytes less the continuation
/// bytes of characters beyond ASCII. (`chars().count()` on a short run was a twentieth of
/// reading a large file.)
fn chars_in(run: &[u8]) -> u32 {
    let continuations = run.iter().filter(|&&b| b & 0xC0 == 0x80).count();
    u32::try_from(run.len() - continuations).unwrap_or(u32::MAX)
}

/// The bytes that end a plain run of a string: a quote, a backslash, a control character. A
/// table rather than three comparisons per byte.
#[allow(clippy::indexing_slicing)] // indices below 256, checked when the table is built
static ENDS_A_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// One step of a JSON path. A key is borrowed from the text unless it was written with
/// escapes: the path is kept for every value read but rendered only for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Key(std::borrow::Cow<'a, str>),
    Index(usize),
}

fn describe(c: char) -> String {
    if c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

const NEWLINE: u8 = 2;

/// JSON's four whitespace bytes: 1 for a space, tab or carriage return, `NEWLINE` for a line feed.
#[allow(clippy::indexing_slicing)] // indices below 256, checked when the table is built
static WHITESPACE: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b' ' as usize] = 1;
    table[b'\t' as usize] = 1;
    table[b'\r' as usize] = 1;
    table[b'\n' as usize] = NEWLINE;
    table
};

struct Reader<'a> {
    /// The byte offset of the next character (always on a character boundary).
    at: usize,
    text: &'a str,
    pos: Pos,
    path: Vec<Segment<'a>>,
    max_depth: usize,
    /// The top-level member whose array elements go to the sink as they are read.
    sink: Option<Sink<'a>>,
    /// Set just before reading that member's value: if it is an array, stream it.
    stream_next: bool,
}

impl<'a> Reader<'a> {
    fn peek(&mut self) -> Option<char> {
        self.text.get(self.at..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            pos: self.pos,
            path: render_path(&self.path),
            message,
        }
    }

    fn error_at(&self, pos: Pos, message: String) -> SyntaxError {
        SyntaxError {
            pos,
            path: render_path(&self.path),
            message,
        }
    }

    /// Whitespace is ASCII, so it is skipped byte by byte through a table: pretty-printed packs
    /// are mostly indentation, and decoding a character and comparing it four ways per byte was
    /// the reader's largest cost.
    fn skip_ws(&mut self) {
        let bytes = self.text.as_bytes();
        let mut at = self.at;
        while let Some(&b) = bytes.get(at) {
            match WHITESPACE.get(usize::from(b)).copied().unwrap_or(0) {
                0 => break,
                NEWLINE => {
                    self.pos.line += 1;
                    self.pos.column = 1;
                }
                _ => self.pos.column += 1,
            }
            at += 1;
        }
        self.at = at;
    }

    fn expect_char(&mut self, want: char, what: &str) -> Result<(), SyntaxError> {
        match self.peek() {
            Some(c) if c == want => {
                self.bump();
                Ok(())
            }
            Some(c) => Err(self.error(format!("expected {what}, found {}", describe(c)))),
            None => Err(self.error(format!("expected {what}, found the end of the file"))),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        if depth > self.max_depth {
            let max = self.max_depth;
            return Err(self.error(format!(
                "nesting deeper than {max} levels; no pack or evidence file needs this much (the limit is `--max-depth`)"
            )));
        }
        let pos = self.pos;
        let stream = std::mem::take(&mut self.stream_next);
        let kind = match self.peek() {
            None => return Err(self.error("expected a value, found the end of the file".into())),
            Some('{') => self.object(depth)?,
            Some('[') => self.array(depth, stream)?,
            Some('"') => Kind::String(self.string()?),
            Some('t') => self.word("true", Kind::Bool(true))?,
            Some('f') => self.word("false", Kind::Bool(false))?,
            Some('n') => self.word("null", Kind::Null)?,
            Some(c) if c == '-' || c.is_ascii_digit() => Kind::Number(self.number()?),
            Some(c) => {
                let hint = match c {
                    'N' | 'I' => " (NaN and Infinity are not JSON numbers)",
                    '\'' => " (JSON strings use double quotes)",
                    _ => "",
                };
                return Err(self.error(format!("expected a value, found {}{hint}", describe(c))));
            }
        };
        Ok(Json { pos, kind })
    }

    fn word(&mut self, word: &str, kind: Kind) -> Result<Kind, SyntaxError> {
        let start = self.pos;
        for want in word.chars() {
            if self.peek() != Some(want) {
                return Err(self.error_at(
                    start,
                    format!("expected a value, found an unknown word (did you mean `{word}`?)"),
                ));
            }
            self.bump();
        }
        Ok(kind)
    }

    fn number(&mut self) -> Result<f64, SyntaxError> {
        let start_pos = self.pos;
        let start = self.at;
        let mut end = start;
        let mut take = |r: &mut Self| {
            if r.bump().is_some() {
                end = r.at;
            }
        };
        if self.peek() == Some('-') {
            take(self);
        }
        let mut int_digits = 0;
        let leading_zero = self.peek() == Some('0');
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            take(self);
            int_digits += 1;
        }
        if int_digits == 0 {
            return Err(self.error("expected digits in a number".into()));
        }
        if leading_zero && int_digits > 1 {
            return Err(self.error_at(start_pos, "numbers may not have leading zeros".into()));
        }
        if self.peek() == Some('.') {
            take(self);
            let mut frac = 0;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                take(self);
                frac += 1;
            }
            if frac == 0 {
                return Err(self.error("expected digits after the decimal point".into()));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            take(self);
            if matches!(self.peek(), Some('+' | '-')) {
                take(self);
            }
            let mut exp = 0;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                take(self);
                exp += 1;
            }
            if exp == 0 {
                return Err(self.error("expected digits in the exponent".into()));
            }
        }
        let literal = self.text.get(start..end).unwrap_or("");
        match literal.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(if n == 0.0 { 0.0 } else { n }),
            _ => Err(self.error_at(
                start_pos,
                format!("the number `{literal}` is out of range (it must fit a 64-bit float)"),
            )),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.string_cow().map(std::borrow::Cow::into_owned)
    }

    /// A string, borrowed from the text when it has no escapes (most keys and values).
    fn string_cow(&mut self) -> Result<std::borrow::Cow<'a, str>, SyntaxError> {
        self.expect_char('"', "`\"`")?;
        let text: &'a str = self.text;
        let rest = text.get(self.at..).unwrap_or("");
        let run = plain_run(rest.as_bytes());
        if rest.as_bytes().get(run) == Some(&b'"') {
            let plain = rest.get(..run).unwrap_or("");
            let chars = chars_in(plain.as_bytes());
            // The run and its closing quote.
            self.pos.column = self.pos.column.saturating_add(chars).saturating_add(1);
            self.at += run + 1;
            return Ok(std::borrow::Cow::Borrowed(plain));
        }
        let mut out = String::new();
        loop {
            // Most of a string is plain text: take the run up to the next quote, backslash or
            // control character in one step (a run holds no newline, so only the column moves).
            let rest = self.text.get(self.at..).unwrap_or("");
            let run = plain_run(rest.as_bytes());
            if run > 0 {
                let plain = rest.get(..run).unwrap_or("");
                out.push_str(plain);
                let chars = chars_in(plain.as_bytes());
                self.pos.column = self.pos.column.saturating_add(chars);
                self.at += run;
            }
            let Some(c) = self.peek() else {
                return Err(self.error("the string is not closed before the end of the file".into()));
            };
            match c {
                '"' => {
                    self.bump();
                    return Ok(std::borrow::Cow::Owned(out));
                }
                '\\' => {
                    self.bump();
                    let esc = self.bump();
                    match esc {
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('/') => out.push('/'),
                        Some('b') => out.push('\u{8}'),
                        Some('f') => out.push('\u{c}'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some('t') => out.push('\t'),
                        Some('u') => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bump() != Some('\\') || self.bump() != Some('u') {
                                    return Err(self.error(
                                        "a high surrogate escape must be followed by a low one".into(),
                                    ));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error("invalid low surrogate escape".into()));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => {
                                    return Err(self.error("invalid unicode escape (a lone surrogate)".into()))
                                }
                            }
                        }
                        Some(other) => {
                            return Err(self.error(format!("unknown escape `\\{other}` in a string")))
                        }
                        None => {
                            return Err(
                                self.error("the string is not closed before the end of the file".into())
                            )
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error(format!("{} inside a string must be escaped", describe(c))))
                }
                c => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| c.to_digit(16));
            match digit {
                Some(d) => code = code * 16 + d,
                None => return Err(self.error("expected four hex digits after `\\u`".into())),
            }
        }
        Ok(code)
    }

    fn array(&mut self, depth: usize, stream: bool) -> Result<Kind, SyntaxError> {
        self.expect_char('[', "`[`")?;
        let mut items = Vec::new();
        // How many elements were read (streamed elements are not kept in `items`).
        let mut count = 0;
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Kind::Array(items));
        }
        loop {
            self.skip_ws();
            self.path.push(Segment::Index(count));
            let item = self.value(depth + 1)?;
            self.path.pop();
            match &mut self.sink {
                Some((_, sink)) if stream => sink(item, count, self.at),
                _ => items.push(item),
            }
            count += 1;
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some(']') {
                        return Err(self.error("trailing comma before `]`".into()));
                    }
                }
                Some(']') => {
                    self.bump();
                    return Ok(Kind::Array(items));
                }
                Some(c) => {
                    return Err(self.error(format!("expected `,` or `]` in an array, found {}", describe(c))))
                }
                None => return Err(self.error("the array is not closed before the end of the file".into())),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        self.expect_char('{', "`{`")?;
        let mut members: Vec<Member> = Vec::new();
        // Where each key was first seen, once the object is large: a duplicate is then found in
        // logarithmic time, so an object with a million keys is read in seconds, not hours.
        // Below `LINEAR` members the members themselves are searched, which allocates nothing.
        const LINEAR: usize = 16;
        let mut seen: std::collections::BTreeMap<String, Pos> = std::collections::BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Kind::Object(members));
        }
        loop {
            self.skip_ws();
            let key_pos = self.pos;
            if self.peek() != Some('"') {
                return Err(match self.peek() {
                    Some('}') => self.error("trailing comma before `}`".into()),
                    Some(c) => self.error(format!("expected a quoted key, found {}", describe(c))),
                    None => self.error("the object is not closed before the end of the file".into()),
                });
            }
            let key = self.string_cow()?;
            let first = if members.len() < LINEAR {
                members.iter().find(|m| m.key == *key).map(|m| m.key_pos)
            } else {
                if seen.is_empty() {
                    seen.extend(members.iter().map(|m| (m.key.clone(), m.key_pos)));
                }
                seen.get(key.as_ref()).copied()
            };
            if let Some(first) = first {
                return Err(self.error_at(
                    key_pos,
                    format!("duplicate key `{key}` (first at {first}); each key may appear once"),
                ));
            }
            if !seen.is_empty() {
                seen.insert(key.to_string(), key_pos);
            }
            self.skip_ws();
            self.expect_char(':', "`:` after the key")?;
            self.skip_ws();
            self.stream_next = depth == 0 && self.sink.as_ref().is_some_and(|(k, _)| *k == key);
            self.path.push(Segment::Key(key.clone()));
            let value = self.value(depth + 1)?;
            self.path.pop();
            members.push(Member {
                key: key.into_owned(),
                key_pos,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(Kind::Object(members));
                }
                Some(c) => {
                    return Err(self.error(format!(
                        "expected `,` or `}}` in an object, found {}",
                        describe(c)
                    )))
                }
                None => return Err(self.error("the object is not closed before the end of the file".into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streaming hands over exactly the elements the whole tree holds, in order, with their
    /// positions and the bytes read once each is (up to its end); only the top-level member's
    /// array is streamed, and only if it is an array.
    #[test]
    fn streaming_hands_over_the_elements_the_tree_would_hold() {
        let text = "{\"a\": {\"obs\": [1]},\n \"obs\": [{\"x\": [2, 3]}, \"s\", null],\n \"z\": [4]}";
        let whole = parse(text).unwrap();
        let mut handed = Vec::new();
        let mut ends = Vec::new();
        let rest = parse_streaming(text, MAX_DEPTH, "obs", &mut |json, i, read| {
            handed.push((i, json));
            ends.push(read);
        })
        .unwrap();
        for (read, element) in ends.iter().zip(["{\"x\": [2, 3]}", "\"s\"", "null"]) {
            assert!(text[..*read].ends_with(element), "{read}: {element}");
        }
        let Kind::Object(members) = &whole.kind else {
            panic!()
        };
        let Kind::Array(items) = &members[1].value.kind else {
            panic!()
        };
        assert_eq!(handed, items.iter().cloned().enumerate().collect::<Vec<_>>());
        let Kind::Object(left) = &rest.kind else { panic!() };
        assert_eq!(left[1].value.kind, Kind::Array(vec![]));
        assert_eq!(left[0], members[0], "a nested member of the same name is kept");
        assert_eq!(left[2], members[2]);
        // Not an array: nothing is handed over.
        let mut none = 0;
        parse_streaming("{\"obs\": {\"k\": [1]}}", MAX_DEPTH, "obs", &mut |_, _, _| {
            none += 1
        })
        .unwrap();
        assert_eq!(none, 0);
        // A syntax error after some elements is still the error.
        let e = parse_streaming("{\"obs\": [1, 2,]}", MAX_DEPTH, "obs", &mut |_, _, _| {}).unwrap_err();
        assert_eq!(e, parse("{\"obs\": [1, 2,]}").unwrap_err());
    }

    #[test]
    fn positions_and_paths() {
        let v = parse("{\n  \"a\": [1, {\"b\": true}]\n}").unwrap();
        let Kind::Object(m) = &v.kind else { panic!() };
        assert_eq!(m[0].key_pos, Pos { line: 2, column: 3 });
        assert_eq!(m[0].value.pos, Pos { line: 2, column: 8 });
    }

    /// `push_key` writes what the loop it replaces wrote, for plain keys, keys that need
    /// brackets, and keys with quotes, backslashes and characters beyond ASCII.
    #[test]
    fn keys_are_written_into_paths_as_before() {
        fn before(out: &mut String, key: &str) {
            let bytes = key.as_bytes();
            let mut identifier = !bytes.is_empty();
            let mut escapes = false;
            for &b in bytes {
                identifier &= b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
                escapes |= b == b'"' || b == b'\\';
            }
            if identifier {
                out.push('.');
                out.push_str(key);
            } else if !escapes {
                out.push_str("[\"");
                out.push_str(key);
                out.push_str("\"]");
            } else {
                out.push_str("[\"");
                for c in key.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push_str("\"]");
            }
        }
        let mut keys: Vec<String> = [
            "", "value", "a-b_c9", "a b", "a.b", "é", "x\"y", "x\\y", "\"", "[0]",
        ]
        .iter()
        .map(|k| (*k).to_string())
        .collect();
        keys.extend((0u8..128).map(|b| format!("k{}", char::from(b))));
        for key in &keys {
            let (mut a, mut b) = (String::from("$"), String::from("$"));
            push_key(&mut a, key);
            before(&mut b, key);
            assert_eq!(a, b, "{key:?}");
        }
    }

    /// A run's characters are counted as `chars().count()` counts them.
    #[test]
    fn characters_are_counted_as_before() {
        for text in [
            "",
            "plain",
            "é",
            "naïve café",
            "日本語",
            "🦀 crab",
            "a\u{10FFFF}b",
        ] {
            assert_eq!(chars_in(text.as_bytes()) as usize, text.chars().count(), "{text}");
        }
    }

    /// `index_path` writes what `format!` wrote, for the indices at every digit count.
    #[test]
    fn index_paths_are_formatted_as_before() {
        let mut indices: Vec<usize> = (0..1000).collect();
        indices.extend((1..20).map(|p| 10usize.pow(p)).flat_map(|n| [n - 1, n, n + 1]));
        indices.push(usize::MAX);
        for i in indices {
            for path in ["$", "$.observations", ""] {
                assert_eq!(index_path(path, i), format!("{path}[{i}]"));
            }
        }
    }

    #[test]
    fn rejects_duplicates_non_finite_and_depth() {
        let e = parse("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert!(e.message.contains("duplicate key `a` (first at 1:2)"), "{e:?}");
        assert_eq!(e.pos, Pos { line: 2, column: 2 });
        let e = parse("[1e400]").unwrap_err();
        assert!(e.message.contains("out of range"));
        assert_eq!(e.path, "$[0]");
        let deep = "[".repeat(100_000);
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nesting deeper"));
        assert!(parse("").unwrap_err().message.contains("empty file"));
        assert!(parse("NaN").unwrap_err().message.contains("NaN"));
    }

    #[test]
    fn negative_zero_is_zero_and_bom_is_skipped() {
        let v = parse("\u{feff}-0.0").unwrap();
        assert_eq!(v.kind, Kind::Number(0.0));
        assert!(matches!(v.kind, Kind::Number(n) if n.is_sign_positive()));
    }
}
