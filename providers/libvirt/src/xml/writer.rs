//! A minimal XML writer: elements, attributes and text, always escaped.

/// Builds one XML document, element by element.
pub(crate) struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
    depth_has_children: Vec<bool>,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        XmlWriter {
            out: String::with_capacity(1024),
            open: Vec::new(),
            depth_has_children: Vec::new(),
        }
    }

    fn indent(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        if let Some(parent) = self.depth_has_children.last_mut() {
            *parent = true;
        }
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("='");
            escape_into(&mut self.out, v);
            self.out.push('\'');
        }
    }

    /// Opens an element whose children follow; close it with [`XmlWriter::close`].
    pub(crate) fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push('>');
        self.open.push(name);
        self.depth_has_children.push(false);
        self
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            if self.depth_has_children.pop() == Some(true) {
                self.indent();
            }
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// An element with attributes and no content.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push_str("/>");
        self
    }

    /// An element holding only text.
    pub(crate) fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push('>');
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// The document; every open element is closed.
    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_nests() {
        let mut w = XmlWriter::new();
        w.open("a", &[("x", "1'<2>&\"")]);
        w.text("b", &[], "t<&>'");
        w.empty("c", &[("k", "v")]);
        w.open("d", &[]);
        let xml = w.finish();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let a = doc.root_element();
        assert_eq!(a.attribute("x"), Some("1'<2>&\""));
        let b = a.children().find(|n| n.has_tag_name("b")).unwrap();
        assert_eq!(b.text(), Some("t<&>'"));
        assert!(a.children().any(|n| n.has_tag_name("d")));
    }
}
