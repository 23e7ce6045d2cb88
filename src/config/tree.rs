//! The YAML document as a generic tree whose every node knows where it was
//! written, so validation can walk it and report all problems at once.
//!
//! Why this shape: deserializing straight into typed structs stops at the
//! first error. Instead `serde-saphyr` (safe Rust, YAML 1.2, resource
//! budgets, spans with line:column and byte offsets; `serde_yaml` is
//! archived) fills this tree through `deserialize_any` wrapped in
//! [`serde_saphyr::Spanned`], and `validate` interprets it.
//!
//! Untrusted input cannot hang or exhaust the loader: the budget below caps
//! nesting depth, node and event counts, aliases and their expansion (the
//! "billion laughs" document), scalar bytes and the number of documents.
//! Duplicate keys are passed through to the tree (not rejected by the parser)
//! so that they are reported together with every other problem.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned};

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

    fn from_location(location: &Location) -> Pos {
        Pos {
            line: usize::try_from(location.line())
                .unwrap_or(usize::MAX)
                .max(1),
            column: usize::try_from(location.column())
                .unwrap_or(usize::MAX)
                .max(1),
        }
    }
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
            Kind::Str(s) if s.chars().count() <= 40 => format!("'{s}'"),
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

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(deserializer)?;
        let span = spanned.defined.span();
        let src = match (span.byte_offset(), span.byte_len()) {
            (Some(offset), Some(len)) => {
                let start = usize::try_from(offset).ok();
                let end = usize::try_from(offset.saturating_add(len)).ok();
                start.zip(end).map(|(start, end)| start..end)
            }
            _ => None,
        };
        Ok(Node {
            kind: spanned.value,
            pos: Pos::from_location(&spanned.referenced),
            def_pos: Pos::from_location(&spanned.defined),
            src,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Kind, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
        Ok(Kind::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Kind, E> {
        // Beyond i128 no sundial setting is meaningful; keep it as a number
        // that every range check refuses.
        Ok(Kind::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Kind, E> {
        Ok(Kind::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        Kind::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Kind::Map(entries))
    }
}

/// A document that could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// Parses one YAML document into a tree, within the loader's budget.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
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
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_events: 4_000_000,
            max_nodes: 2_000_000,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_total_scalar_bytes: MAX_FILE_BYTES,
            flow_nesting_limit: MAX_DEPTH,
        },
        alias_limits: serde_saphyr::alias_limits! {
            // Aliases are for sharing a few settings between jobs; a
            // document whose aliases expand to more than this is an attack.
            max_total_replayed_events: 50_000,
            max_replay_stack_depth: 16,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        // `on`, `yes`, `no` stay strings (the webhook's `on:` key!).
        strict_booleans: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| syntax_error(&e))
}

fn syntax_error(err: &serde_saphyr::Error) -> SyntaxError {
    use serde_saphyr::Error;
    let pos = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Pos::START, |l| Pos::from_location(&l));
    let mut inner = err;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let (message, hint) = match inner {
        Error::Budget { breach, .. } => budget_message(breach),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => (
            "aliases in this file expand to too much data".into(),
            Some("use aliases (*name) to share small settings, or move shared settings into `defaults:`".into()),
        ),
        Error::MultipleDocuments { .. } => (
            "the file holds more than one YAML document ('---')".into(),
            Some("put every job under one `jobs:` map in a single document".into()),
        ),
        other => {
            let message = serde_saphyr::UserMessageFormatter.format_message(other);
            if message.contains("recursion limit") {
                nesting_message()
            } else {
                let hint = syntax_hint(&message).map(str::to_owned);
                (format!("YAML syntax error: {message}"), hint)
            }
        }
    };
    SyntaxError { pos, message, hint }
}

/// What usually causes the parser's messages in a `jobs.yaml`.
fn syntax_hint(message: &str) -> Option<&'static str> {
    Some(if message.contains("reference to unknown value") {
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
    })
}

fn nesting_message() -> (String, Option<String>) {
    (
        format!("the file is nested more than {MAX_DEPTH} levels deep"),
        Some("sundial settings nest at most a few levels; check the indentation".into()),
    )
}

fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> (String, Option<String>) {
    use serde_saphyr::budget::BudgetBreach;
    match breach {
        BudgetBreach::Depth { .. } => nesting_message(),
        BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => (
            "the file uses too many anchors or aliases".into(),
            Some("move shared settings into `defaults:`".into()),
        ),
        BudgetBreach::Documents { .. } => (
            "the file holds more than one YAML document ('---')".into(),
            Some("put every job under one `jobs:` map in a single document".into()),
        ),
        other => (
            format!("the file is too large or too complex to load ({other:?})"),
            Some("if aliases (*name) are used, they may expand to too much data; move shared settings into `defaults:`".into()),
        ),
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
    fn huge_documents_are_refused_before_parsing() {
        let text = "#".repeat(MAX_FILE_BYTES + 1);
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("MiB"), "{err:?}");
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }
}
