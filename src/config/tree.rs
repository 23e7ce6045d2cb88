//! The YAML document as a generic tree whose every node knows where it was
//! written, so validation can walk it and report all problems at once.
//!
//! Why this shape: deserializing straight into typed structs stops at the
//! first error. The tree is built from the event stream of `granit-parser`,
//! the YAML 1.2 parser of `serde-saphyr` (safe Rust, spans with line, column
//! and byte offsets; `serde_yaml` is archived). Going through serde
//! (`serde_saphyr::Spanned<T>` on every node) worked but cost twice the
//! parse itself, which broke the 200 ms budget for 10,000 jobs; the events
//! carry everything needed: positions, scalar styles (so `0022` keeps its
//! text), anchors and aliases.
//!
//! Untrusted input cannot hang or exhaust the loader: the file size, nesting
//! depth and node count are capped, and aliases may copy at most
//! [`MAX_ALIAS_NODES`] nodes in total, which stops a "billion laughs"
//! document after a few milliseconds. Duplicate keys are kept in the tree
//! so that they are reported together with every other problem. Scalars
//! are typed by the YAML 1.2 core schema: `yes`, `on` and `no` stay strings.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde_saphyr::granit_parser::{
    Event, Options as ParserOptions, Parser, ScalarStyle, ScanError, Span, StrInput, Tag,
};

/// The largest file the loader accepts. A real config with 10,000 jobs is
/// around 1 MiB; this leaves room while keeping memory bounded.
pub(super) const MAX_FILE_BYTES: usize = 16 << 20;

/// Nesting deeper than this is refused. sundial's own structure is at most 6
/// levels deep (`jobs: name: env: VAR: from_file:`), so 32 is generous while
/// keeping the recursive tree building shallow.
const MAX_DEPTH: usize = 32;

/// A 1-based position in the file, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub kind: Kind,
    /// Where the node is used: for an alias (`*name`), the alias itself.
    pub pos: Pos,
    /// Where the node is written: the anchored original for an alias.
    pub def_pos: Pos,
    /// Byte range of the written node in the source text (scalars only are
    /// useful): the source of truth for values YAML would reinterpret, such
    /// as `0022`.
    pub src: Option<Range<usize>>,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The text of a scalar as the user meant it: a string's value, or the
    /// source text of a number or boolean (`0022` stays `0022`, `1.50` stays
    /// `1.50`). `None` for lists, maps and null.
    pub fn scalar_text<'a>(&'a self, source: &'a str) -> Option<Cow<'a, str>> {
        match &self.kind {
            Kind::Str(s) => Some(Cow::Borrowed(s)),
            Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) => Some(
                self.source_text(source)
                    .map(Cow::Borrowed)
                    .unwrap_or_else(|| Cow::Owned(self.kind.fallback_text())),
            ),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// The node's text exactly as written in the file, without a leading tag
    /// (`!!str`) and trimmed; `None` when unknown.
    pub fn source_text<'a>(&self, source: &'a str) -> Option<&'a str> {
        let mut text = source.get(self.src.clone()?)?.trim();
        if text.starts_with('!') {
            text = text
                .split_once(char::is_whitespace)
                .map_or("", |(_, rest)| rest.trim_start());
        }
        Some(text)
    }

    /// A short description for "expected X, got Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "nothing (null)".into(),
            Kind::Bool(b) => format!("the boolean {b}"),
            Kind::Int(i) => format!("the number {i}"),
            Kind::Float(f) => format!("the number {f}"),
            // Escaped, so a value with a newline cannot break the message.
            Kind::Str(s) if s.chars().count() <= 40 => format!("'{}'", s.escape_debug()),
            Kind::Str(_) => "a long string".into(),
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a map".into(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }
}

impl Kind {
    fn fallback_text(&self) -> String {
        match self {
            Kind::Bool(b) => b.to_string(),
            Kind::Int(i) => i.to_string(),
            Kind::Float(f) => f.to_string(),
            Kind::Str(s) => s.clone(),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => String::new(),
        }
    }
}

/// A document that could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// Nodes a document may hold, alias copies included: 10,000 jobs take about
/// 250,000; the cap bounds memory at around 100 MB.
const MAX_NODES: usize = 1_000_000;

/// Nodes that aliases may copy in total. Aliases are for sharing a few
/// settings; a document that expands to more is refused as an attack.
pub(super) const MAX_ALIAS_NODES: usize = 100_000;

/// Parses one YAML document into a tree, within the limits above.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
    parse_within(text, MAX_NODES)
}

/// [`parse`] with a node cap of `max_nodes`, so tests need not build a
/// million nodes to see the cap work.
fn parse_within(text: &str, max_nodes: usize) -> Result<Node, SyntaxError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(SyntaxError {
            pos: Pos::START,
            message: format!(
                "the file is {} bytes, more than the {} MiB sundial reads",
                text.len(),
                MAX_FILE_BYTES >> 20
            ),
            hint: Some("split the jobs over several sundial instances".into()),
        });
    }
    let mut options = ParserOptions::default();
    // The parser's own guards, just above ours so ours report first.
    options.flow_nesting_limit = MAX_DEPTH + 1;
    options.block_nesting_limit = MAX_DEPTH + 1;
    options.emit_comments = false;
    let parser = Parser::with_options(StrInput::new(text), options);
    let mut builder = Builder {
        source: text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        alias_nodes: 0,
        root: None,
        documents: 0,
        max_nodes,
    };
    for item in parser {
        let (event, span) = item.map_err(|err| scan_error(&err))?;
        builder.event(event, span)?;
    }
    Ok(builder.root.map_or(
        Node {
            kind: Kind::Null,
            pos: Pos::START,
            def_pos: Pos::START,
            src: None,
        },
        |(node, _)| node,
    ))
}

/// An open collection and what it has collected so far.
enum Frame {
    Seq {
        head: Node,
        anchor: usize,
        items: Vec<Node>,
        size: usize,
        /// Levels of nesting below this collection so far.
        height: usize,
    },
    Map {
        head: Node,
        anchor: usize,
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        /// `<<: *defaults` entries, applied when the map ends.
        merges: Vec<Node>,
        size: usize,
        height: usize,
    },
}

struct Builder<'s> {
    source: &'s str,
    stack: Vec<Frame>,
    /// Anchored nodes by the parser's anchor id, with their node counts and
    /// heights: an alias may neither copy too much nor nest too deep.
    anchors: HashMap<usize, (Node, usize, usize)>,
    nodes: usize,
    alias_nodes: usize,
    root: Option<(Node, usize)>,
    documents: usize,
    max_nodes: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let pos = Pos {
            line: span.start.line().max(1),
            column: span.start.col() + 1,
        };
        let src = span
            .start
            .byte_offset()
            .zip(span.end.byte_offset())
            .map(|(start, end)| start..end);
        let head = |kind| Node {
            kind,
            pos,
            def_pos: pos,
            src: src.clone(),
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError {
                        pos,
                        message: "the file holds more than one YAML document ('---')".into(),
                        hint: Some(
                            "put every job under one `jobs:` map in a single document".into(),
                        ),
                    });
                }
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                let kind = scalar_kind(value, style, tag.as_deref());
                self.count(1, pos)?;
                self.finish(head(kind), anchor, 1, 0)
            }
            Event::SequenceStart(_, anchor, _) => {
                self.open(pos)?;
                self.stack.push(Frame::Seq {
                    head: head(Kind::Null),
                    anchor,
                    items: Vec::new(),
                    size: 1,
                    height: 0,
                });
                Ok(())
            }
            Event::MappingStart(_, anchor, _) => {
                self.open(pos)?;
                self.stack.push(Frame::Map {
                    head: head(Kind::Null),
                    anchor,
                    pairs: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    size: 1,
                    height: 0,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    mut head,
                    anchor,
                    items,
                    size,
                    height,
                }) => {
                    head.kind = Kind::Seq(items);
                    self.finish(head, anchor, size, height + 1)
                }
                _ => Err(internal(pos)),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    mut head,
                    anchor,
                    mut pairs,
                    merges,
                    size,
                    height,
                    ..
                }) => {
                    merge_into(&mut pairs, merges);
                    head.kind = Kind::Map(pairs);
                    self.finish(head, anchor, size, height + 1)
                }
                _ => Err(internal(pos)),
            },
            Event::Alias(id) => {
                let Some((anchored, size, height)) = self.anchors.get(&id) else {
                    return Err(SyntaxError {
                        pos,
                        message: "the alias refers to no anchor".into(),
                        hint: Some(
                            "a value starting with `*` is a YAML alias: quote schedules, e.g. schedule: \"*/5 * * * *\" (or define the anchor &name before its alias *name)"
                                .into(),
                        ),
                    });
                };
                let (size, height) = (*size, *height);
                if self.stack.len() + height > MAX_DEPTH {
                    let (message, hint) = nesting_message();
                    return Err(SyntaxError { pos, message, hint });
                }
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        pos,
                        message: "aliases in this file expand to too much data".into(),
                        hint: Some(
                            "use aliases (*name) to share small settings, or move shared settings into `defaults:`"
                                .into(),
                        ),
                    });
                }
                let mut copy = anchored.clone();
                self.count(size, pos)?;
                // The copy is used here; its parts stay where they are written.
                copy.pos = pos;
                self.finish(copy, 0, size, height)
            }
            // Anchor names, unresolved aliases and comments are only emitted
            // on request, which this parser does not make; none carries a value.
            _ => Ok(()),
        }
    }

    fn open(&mut self, pos: Pos) -> Result<(), SyntaxError> {
        self.count(1, pos)?;
        if self.stack.len() >= MAX_DEPTH {
            let (message, hint) = nesting_message();
            return Err(SyntaxError { pos, message, hint });
        }
        Ok(())
    }

    fn count(&mut self, nodes: usize, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes += nodes;
        if self.nodes > self.max_nodes {
            return Err(SyntaxError {
                pos,
                message: format!("the file holds more than {} values", self.max_nodes),
                hint: Some("is this the right file?".into()),
            });
        }
        Ok(())
    }

    /// A complete node: remember it if anchored, and hand it to its parent.
    fn finish(
        &mut self,
        node: Node,
        anchor: usize,
        size: usize,
        height: usize,
    ) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size, height));
        }
        match self.stack.last_mut() {
            None => self.root = Some((node, size)),
            Some(Frame::Seq {
                items,
                size: total,
                height: max,
                ..
            }) => {
                *total += size;
                *max = (*max).max(height);
                items.push(node);
            }
            Some(Frame::Map {
                pairs,
                key,
                merges,
                size: total,
                height: max,
                ..
            }) => {
                *total += size;
                *max = (*max).max(height);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) if is_merge_key(&k, self.source) => merges.push(node),
                    Some(k) => pairs.push((k, node)),
                }
            }
        }
        Ok(())
    }
}

/// `<<` written plain, the YAML 1.1 merge key that copies another map's
/// entries (`<<: *common`); quoted it is an ordinary key.
fn is_merge_key(key: &Node, source: &str) -> bool {
    matches!(&key.kind, Kind::Str(s) if s == "<<") && key.source_text(source) == Some("<<")
}

/// Appends the entries of merged maps whose keys the map does not already
/// have: the map's own entries win, then earlier merges over later ones.
/// A merge value that is not a map (or a list of maps) is kept as an
/// ordinary `<<` entry, so validation reports it as an unknown key.
fn merge_into(pairs: &mut Vec<(Node, Node)>, merges: Vec<Node>) {
    for merge in merges {
        let sources = match merge.kind {
            Kind::Map(_) => vec![merge],
            Kind::Seq(items) if items.iter().all(|i| matches!(i.kind, Kind::Map(_))) => items,
            _ => {
                let key = Node {
                    kind: Kind::Str("<<".into()),
                    pos: merge.pos,
                    def_pos: merge.pos,
                    src: None,
                };
                pairs.push((key, merge));
                continue;
            }
        };
        for source in sources {
            let Kind::Map(entries) = source.kind else {
                continue;
            };
            for (key, value) in entries {
                let name = key_text(&key);
                if !pairs.iter().any(|(k, _)| key_text(k) == name) {
                    pairs.push((key, value));
                }
            }
        }
    }
}

/// Types a scalar by the YAML 1.2 core schema. Quoted and block scalars
/// are strings, as is anything tagged `!!str`.
fn scalar_kind(value: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Kind {
    let forced_string = tag.is_some_and(|t| t.is_yaml_core_schema_tag("str"));
    if style != ScalarStyle::Plain || forced_string {
        return Kind::Str(value.into_owned());
    }
    let text = value.as_ref();
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        _ => {}
    }
    if let Some(int) = core_int(text) {
        return Kind::Int(int);
    }
    if is_core_float(text) {
        let lower = text.to_ascii_lowercase();
        let value = match lower.trim_start_matches(['+', '-']) {
            ".inf" => f64::INFINITY,
            ".nan" => f64::NAN,
            _ => text.parse().unwrap_or(f64::NAN),
        };
        return Kind::Float(if text.starts_with('-') {
            -value.abs()
        } else {
            value
        });
    }
    Kind::Str(value.into_owned())
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
fn core_int(text: &str) -> Option<i128> {
    if let Some(octal) = text.strip_prefix("0o") {
        return i128::from_str_radix(octal, 8)
            .ok()
            .filter(|_| !octal.starts_with(['+', '-']));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16)
            .ok()
            .filter(|_| !hex.starts_with(['+', '-']));
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Past i128, keep a number that every range check refuses.
    Some(text.parse::<i128>().unwrap_or(if text.starts_with('-') {
        i128::MIN
    } else {
        i128::MAX
    }))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, or `.inf`/`.nan`.
fn is_core_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(fraction) => {
            digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn scan_error(err: &ScanError) -> SyntaxError {
    let marker = err.marker();
    let pos = Pos {
        line: marker.line().max(1),
        column: marker.col() + 1,
    };
    let info = err.info();
    if info.contains("recursion limit") || info.contains("nesting") {
        let (message, hint) = nesting_message();
        return SyntaxError { pos, message, hint };
    }
    SyntaxError {
        pos,
        message: format!("YAML syntax error: {info}"),
        hint: syntax_hint(&info).map(str::to_owned),
    }
}

/// What usually causes the parser's messages in a `jobs.yaml`.
fn syntax_hint(message: &str) -> Option<&'static str> {
    Some(
        if message.contains("reference to unknown value") || message.contains("unknown anchor") {
            // `schedule: */5 * * * *`: a plain value starting with `*` is an alias.
            "`*name` is a YAML alias and no `&name` anchor is defined above it; a schedule starting with `*` must be quoted, e.g. schedule: \"*/5 * * * *\""
        } else if message.contains("tabs disallowed") {
            "indent with spaces; YAML does not allow tabs for indentation"
        } else if message.contains("mapping values are not allowed") {
            "a value that contains `: ` must be quoted, e.g. command: \"echo time: now\""
        } else if message.contains("illegal placement of ':'") {
            "check the lines above for an unclosed `[` or `{`, and quote values that contain `:`"
        } else if message.contains("did not find expected key") {
            "check the indentation: the keys of one map must start in the same column"
        } else if message.contains("unclosed quote") {
            "close the quote at the end of the value"
        } else {
            return None;
        },
    )
}

fn nesting_message() -> (String, Option<String>) {
    (
        format!("the file is nested more than {MAX_DEPTH} levels deep"),
        Some("sundial settings nest at most a few levels; check the indentation".into()),
    )
}

/// Events out of order: the parser guarantees this does not happen.
fn internal(pos: Pos) -> SyntaxError {
    SyntaxError {
        pos,
        message: "YAML syntax error: unbalanced collections".into(),
        hint: None,
    }
}

fn key_text(key: &Node) -> Option<String> {
    match &key.kind {
        Kind::Str(s) => Some(s.clone()),
        Kind::Int(i) => Some(i.to_string()),
        Kind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn nodes_carry_positions_and_source_text() {
        let text = "umask: 0022\nname: \"quoted\"\nlist: [a, 1]\n";
        let root = parse(text).unwrap();
        let Kind::Map(entries) = &root.kind else {
            panic!("expected a map")
        };
        assert_eq!(entries.len(), 3);
        let (key, value) = &entries[0];
        assert_eq!(key.pos, Pos { line: 1, column: 1 });
        assert_eq!(value.pos, Pos { line: 1, column: 8 });
        assert_eq!(value.scalar_text(text).as_deref(), Some("0022"));
        let (_, quoted) = &entries[1];
        assert_eq!(quoted.pos, Pos { line: 2, column: 7 });
        assert_eq!(quoted.source_text(text), Some("\"quoted\""));
        let (_, list) = &entries[2];
        let Kind::Seq(items) = &list.kind else {
            panic!("expected a list")
        };
        assert_eq!(
            items[1].pos,
            Pos {
                line: 3,
                column: 11
            }
        );
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let root = parse("on: yes\n").unwrap();
        let Kind::Map(entries) = &root.kind else {
            panic!("expected a map")
        };
        assert!(matches!(&entries[0].0.kind, Kind::Str(s) if s == "on"));
        assert!(matches!(&entries[0].1.kind, Kind::Str(s) if s == "yes"));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse("jobs:\n  a: [1, 2\n  b: 3\n").unwrap_err();
        assert!(err.message.starts_with("YAML syntax error"), "{err:?}");
        assert_eq!(err.pos.line, 3);
        let err = parse("a: b: c\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 1, column: 5 });
    }

    #[test]
    fn several_documents_are_refused() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(
            err.message.contains("more than one YAML document"),
            "{err:?}"
        );
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..=12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let started = Instant::now();
        let err = parse(&text).unwrap_err();
        // Debug build on a shared machine: the point is that it ends at all.
        assert!(
            started.elapsed().as_secs() < 5,
            "took {:?}",
            started.elapsed()
        );
        assert!(
            err.message.contains("too much data") || err.message.contains("too large"),
            "{err:?}"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse(&flow).unwrap_err();
        assert!(err.message.contains("nested"), "{err:?}");

        let mut block = String::from("a:\n");
        for depth in 1..200 {
            block.push_str(&"  ".repeat(depth));
            block.push_str("b:\n");
        }
        let err = parse(&block).unwrap_err();
        assert!(err.message.contains("nested"), "{err:?}");
        assert_eq!(err.pos.line, MAX_DEPTH + 1);
    }

    #[test]
    fn aliases_cannot_nest_deeper_than_the_limit() {
        // Each anchor nests the previous one a little deeper; without a
        // check on the copies' height the tree could nest without bound.
        let mut text = String::from("a0: &a0 [[[[[[[[1]]]]]]]]\n");
        for i in 1..=10 {
            text.push_str(&format!("a{i}: &a{i} [[[[[[[[*a{}]]]]]]]]\n", i - 1));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("nested"), "{err:?}");
        assert_eq!(err.pos.line, 4);
    }

    #[test]
    fn huge_documents_are_refused_before_parsing() {
        let text = "#".repeat(MAX_FILE_BYTES + 1);
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("MiB"), "{err:?}");
    }

    fn map(node: &Node) -> &[(Node, Node)] {
        match &node.kind {
            Kind::Map(pairs) => pairs,
            other => panic!("expected a map, got {other:?}"),
        }
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        let text = "[~, null, '', true, False, 1, -7, +3, 0o17, 0x1f, 1.5, -.5, 1e3, .inf, 0022, 1_000, yes, 1.2.3, \"1\", !!str 5]";
        let Kind::Seq(items) = parse(text).unwrap().kind else {
            panic!("expected a list")
        };
        let kinds: Vec<String> = items.iter().map(|n| format!("{:?}", n.kind)).collect();
        assert_eq!(
            kinds,
            [
                "Null",
                "Null",
                "Str(\"\")",
                "Bool(true)",
                "Bool(false)",
                "Int(1)",
                "Int(-7)",
                "Int(3)",
                "Int(15)",
                "Int(31)",
                "Float(1.5)",
                "Float(-0.5)",
                "Float(1000.0)",
                "Float(inf)",
                "Int(22)",
                "Str(\"1_000\")",
                "Str(\"yes\")",
                "Str(\"1.2.3\")",
                "Str(\"1\")",
                "Str(\"5\")",
            ]
        );
        assert_eq!(items[14].scalar_text(text).as_deref(), Some("0022"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let root = parse("é: [ü, x]\n").unwrap();
        let (_, list) = &map(&root)[0];
        let Kind::Seq(items) = &list.kind else {
            panic!("expected a list")
        };
        assert_eq!(items[1].pos, Pos { line: 1, column: 8 });
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let text = "a: &x { k: 1 }\nb: *x\n";
        let root = parse(text).unwrap();
        let (_, b) = &map(&root)[1];
        assert_eq!(b.pos, Pos { line: 2, column: 4 });
        assert_eq!(b.def_pos, Pos { line: 1, column: 7 });
        assert_eq!(map(b)[0].0.pos, Pos { line: 1, column: 9 });
        let err = parse("a: *nope\n").unwrap_err();
        assert_eq!(err.pos.line, 1, "{err:?}");
    }

    #[test]
    fn merge_keys_copy_missing_entries() {
        let text = "base: &b { x: 1, y: 2 }\nm:\n  <<: *b\n  y: 3\n  z: 4\nq:\n  '<<': 5\n";
        let root = parse(text).unwrap();
        let names = |node: &Node| -> Vec<String> {
            map(node)
                .iter()
                .map(|(k, v)| format!("{:?}={:?}", k.kind, v.kind))
                .collect()
        };
        assert_eq!(
            names(&map(&root)[1].1),
            [
                "Str(\"y\")=Int(3)",
                "Str(\"z\")=Int(4)",
                "Str(\"x\")=Int(1)"
            ]
        );
        // Quoted, `<<` is an ordinary key (and validation will call it unknown).
        assert_eq!(names(&map(&root)[2].1), ["Str(\"<<\")=Int(5)"]);
    }

    #[test]
    fn too_many_nodes_are_refused() {
        let text = format!("a: [{}0]\n", "0, ".repeat(96));
        // The map, its key, the list and 97 numbers: 100 nodes.
        assert!(parse_within(&text, 100).is_ok());
        let err = parse_within(&text, 99).unwrap_err();
        assert_eq!(err.message, "the file holds more than 99 values");
        assert_eq!(
            err.pos,
            Pos {
                line: 1,
                column: 293
            }
        );
        // Alias copies count too.
        let text = "b: &x [1, 2]\nc: *x\n";
        assert!(parse_within(text, 9).is_ok());
        assert!(parse_within(text, 8).is_err());
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }
}
