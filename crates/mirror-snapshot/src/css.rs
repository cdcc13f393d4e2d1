//! References in CSS — `url(...)` anywhere (stylesheets, `<style>`, `style=""`) and
//! `@import "..."` — found with cssparser's tokenizer and its byte positions, so a rewrite
//! splices new URLs into the original text and leaves every other byte (comments, escapes,
//! formatting) as it was.

use std::ops::Range;

use cssparser::{ParseError, Parser, Token};

/// How a URL is written, which decides how a new one is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// `url(a.png)`: the span covers the whole `url(...)` token.
    Unquoted,
    /// `url("a.png")`, `@import 'a.css'`: the span covers the string with its quotes.
    Quoted(u8),
}

/// One reference in a stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssRef {
    /// The URL, CSS escapes resolved.
    pub value: String,
    /// Byte range of what to replace.
    pub span: Range<usize>,
    /// How it is written.
    pub quoting: Quoting,
    /// Found in an `@import`.
    pub import: bool,
}

/// Every reference in `css`, in order.
pub fn css_refs(css: &str) -> Vec<CssRef> {
    let mut p = Parser::new(css);
    let mut out = Vec::new();
    walk(&mut p, css, &mut out);
    out
}

fn walk(p: &mut Parser<'_>, css: &str, out: &mut Vec<CssRef>) {
    let mut after_import = false;
    loop {
        let start = p.position().byte_index();
        let tok = match p.next_including_whitespace_and_comments() {
            Ok(t) => t.clone(),
            Err(_) => return,
        };
        let end = p.position().byte_index();
        let next_import = match p_last_keyword(&tok) {
            Some(b) => b,
            None => after_import && !matches!(tok, Token::Semicolon),
        };
        match tok {
            Token::WhiteSpace(_) | Token::Comment(_) => continue,
            Token::UnquotedUrl(v) => out.push(CssRef {
                value: v.to_string(),
                span: start..end,
                quoting: Quoting::Unquoted,
                import: after_import,
            }),
            Token::QuotedString(v) if after_import => out.push(CssRef {
                value: v.to_string(),
                span: start..end,
                quoting: Quoting::Quoted(css.as_bytes()[start]),
                import: true,
            }),
            Token::Function(name) if name.eq_ignore_ascii_case("url") => {
                let import = after_import;
                let _ = p.parse_nested_block(|np| -> Result<(), ParseError<()>> {
                    loop {
                        let s = np.position().byte_index();
                        match np.next() {
                            Ok(Token::QuotedString(v)) => {
                                let v = v.to_string();
                                let e = np.position().byte_index();
                                out.push(CssRef {
                                    value: v,
                                    span: s..e,
                                    quoting: Quoting::Quoted(css.as_bytes()[s]),
                                    import,
                                });
                            }
                            Ok(_) => {}
                            Err(_) => return Ok(()),
                        }
                    }
                });
            }
            Token::Function(_)
            | Token::ParenthesisBlock
            | Token::SquareBracketBlock
            | Token::CurlyBracketBlock => {
                let _ = p.parse_nested_block(|np| -> Result<(), ParseError<()>> {
                    walk(np, css, out);
                    Ok(())
                });
            }
            _ => {}
        }
        after_import = next_import;
    }
}

/// `Some(true)` for `@import`, `Some(false)` for a token ending an import's URL position.
fn p_last_keyword(tok: &Token) -> Option<bool> {
    match tok {
        Token::AtKeyword(k) => Some(k.eq_ignore_ascii_case("import")),
        Token::QuotedString(_) | Token::UnquotedUrl(_) | Token::Function(_) => Some(false),
        _ => None,
    }
}

/// Writes `url` back the way the original was written.
pub fn write_url(url: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::Unquoted => {
            // New URLs are percent-encoded (no spaces, quotes or parentheses); anything
            // else left is escaped as CSS requires inside url().
            let mut s = String::from("url(");
            for c in url.chars() {
                if matches!(c, '(' | ')' | '\'' | '"' | '\\') || c.is_whitespace() {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push(')');
            s
        }
        Quoting::Quoted(q) => {
            let q = q as char;
            let mut s = String::new();
            s.push(q);
            for c in url.chars() {
                if c == q || c == '\\' {
                    s.push('\\');
                }
                if c == '\n' {
                    s.push_str("\\a ");
                    continue;
                }
                s.push(c);
            }
            s.push(q);
            s
        }
    }
}

/// Rewrites the references of `css`: `f` gets each one and returns its new URL, if any.
/// `None` when nothing changed.
pub fn rewrite_css(css: &str, mut f: impl FnMut(&CssRef) -> Option<String>) -> Option<String> {
    let edits: Vec<(Range<usize>, String)> = css_refs(css)
        .iter()
        .filter_map(|r| f(r).map(|new| (r.span.clone(), write_url(&new, r.quoting))))
        .collect();
    crate::srcset::splice(css, &edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(css: &str) -> Vec<(String, bool)> {
        css_refs(css)
            .into_iter()
            .map(|r| (r.value, r.import))
            .collect()
    }

    #[test]
    fn finds_urls_and_imports() {
        let css = r#"@import "a.css";
@import url('b.css') screen;
@media print { .x { background: url( c.png ) no-repeat } }
/* url(comment.png) */
.y { background-image: url("d\"q.png"), url(e\(1\).png); content: "url(no.png)" }
@font-face { src: url(f.woff2) format("woff2") }
"#;
        assert_eq!(
            values(css),
            vec![
                ("a.css".into(), true),
                ("b.css".into(), true),
                ("c.png".into(), false),
                ("d\"q.png".into(), false),
                ("e(1).png".into(), false),
                ("f.woff2".into(), false),
            ]
        );
    }

    #[test]
    fn rewrite_is_byte_exact_elsewhere() {
        let css = "a{b:url( x.png )}/*c*/ @import 'y.css' ; d{e:url(\"z.png\")}";
        let out = rewrite_css(css, |r| match r.value.as_str() {
            "x.png" => Some("n/x.png".into()),
            "y.css" => Some("n/y's.css".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            out,
            "a{b:url(n/x.png)}/*c*/ @import 'n/y\\'s.css' ; d{e:url(\"z.png\")}"
        );
        assert_eq!(rewrite_css(css, |_| None), None);
        assert_eq!(values(&out)[1].0, "n/y's.css");
    }

    #[test]
    fn unquoted_escapes_round_trip() {
        let w = write_url("a b(c).png", Quoting::Unquoted);
        assert_eq!(values(&format!("x{{y:{w}}}"))[0].0, "a b(c).png");
    }
}
