//! Tables built from the API's JSON: columns pick fields by dotted path, state columns are
//! coloured on a terminal.

use super::style::{self, Tone};
use comfy_table::{Cell, Color, Table, presets};
use serde_json::Value;

/// A value by dotted path (`placement.offer`); `Null` when absent.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(v, |cur, key| cur.get(key))
        .unwrap_or(&Value::Null)
}

/// A value as text: strings as they are, numbers and booleans printed, absent as empty.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The string at a dotted path.
pub(crate) fn s(v: &Value, path: &str) -> String {
    text(at(v, path))
}

/// One cell: text, and whether it is a state word to colour.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    /// The text.
    pub(crate) text: String,
    /// Colour it as a state.
    pub(crate) state: bool,
}

impl Col {
    /// A plain cell.
    pub(crate) fn plain(text: impl Into<String>) -> Col {
        Col {
            text: text.into(),
            state: false,
        }
    }

    /// A state cell (coloured by its tone).
    pub(crate) fn state(text: impl Into<String>) -> Col {
        Col {
            text: text.into(),
            state: true,
        }
    }
}

/// A table of rows under headers, kubectl-style (no borders).
pub(crate) fn render(headers: &[&str], rows: Vec<Vec<Col>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    if style::enabled() {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.into_iter().map(|c| {
            let cell = Cell::new(&c.text);
            if c.state && style::enabled() {
                match style::tone(&c.text) {
                    Tone::Good => cell.fg(Color::Green),
                    Tone::Bad => cell.fg(Color::Red),
                    Tone::Busy => cell.fg(Color::Yellow),
                    Tone::Plain => cell,
                }
            } else {
                cell
            }
        }));
    }
    // kubectl-like: no margin on the left, two spaces between columns
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    let mut out = t.to_string();
    // comfy-table pads the last column; kubectl-like output has no trailing blanks
    out = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// `key   value` lines for one object, keys aligned.
pub(crate) fn details(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        out.push_str(&format!("{k:<width$}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_text_and_tables() {
        let v = json!({"a": {"b": "x", "n": 3, "t": true, "l": ["p", "q"]}});
        assert_eq!(s(&v, "a.b"), "x");
        assert_eq!(s(&v, "a.n"), "3");
        assert_eq!(s(&v, "a.t"), "true");
        assert_eq!(s(&v, "a.l"), "p,q");
        assert_eq!(s(&v, "a.zz.y"), "");
        let out = render(
            &["ID", "STATE"],
            vec![
                vec![Col::plain("r-1"), Col::state("ready")],
                vec![Col::plain("r-22"), Col::state("failed")],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[0].starts_with(" ID") || lines[0].starts_with("ID"),
            "{out}"
        );
        assert!(
            lines[2].contains("r-22") && lines[2].contains("failed"),
            "{out}"
        );
        assert!(
            !out.contains('\u{1b}'),
            "no colour without a terminal: {out:?}"
        );
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
        let d = details(&[
            ("ID", "r-1".into()),
            ("EMPTY", String::new()),
            ("STATE", "ok".into()),
        ]);
        assert_eq!(d, "ID     r-1\nSTATE  ok\n");
    }
}
