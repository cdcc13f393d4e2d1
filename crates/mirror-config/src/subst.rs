//! The `s/regex/replacement/flags` mini-language that replaces the Perl code mirror.pl ran for
//! `name_mappings`, `ls_fix_mappings`, `compress_conv_expr` and `pool_mappings` (spec §6 item
//! 24): a sequence of substitutions, separated by `;` and/or whitespace, and nothing else.
//!
//! Delimiters are read as Perl reads them: any punctuation (`s:old:new:g`, `s,a,b,`), or a
//! bracketing pair (`s{old}{new}`, `s(old) [new]`). Inside a pattern a backslash before a
//! non-bracketing delimiter gives the delimiter itself (so `s|a\|b|x|` is an alternation, as in
//! Perl). Replacements understand `$1`, `${1}`, `\1`, `$&`, `$+{name}`, `\n`/`\t`-style escapes
//! and `\$`; variables and case-changing escapes are refused with a clear message, as is the `e`
//! flag.

use crate::package::{Subst, Substitutions};
use crate::perlre;

/// Parses a sequence of substitutions. An empty (or all-separator) text is no substitution.
pub(crate) fn parse(text: &str) -> Result<Substitutions, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { chars, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_separators();
        if p.pos >= p.chars.len() {
            return Ok(Substitutions(out));
        }
        out.push(p.substitution()?);
        match p.peek() {
            None => {}
            Some(c) if c == ';' || c.is_whitespace() => {}
            Some(c) => {
                return Err(format!(
                    "unexpected `{c}` after substitution {}: separate substitutions with `;`",
                    out.len()
                ));
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn closing(open: char) -> Option<char> {
    match open {
        '(' => Some(')'),
        '[' => Some(']'),
        '{' => Some('}'),
        '<' => Some('>'),
        _ => None,
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_separators(&mut self) {
        while self.peek().is_some_and(|c| c == ';' || c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn rest_word(&self) -> String {
        self.chars[self.pos..]
            .iter()
            .take_while(|c| !c.is_whitespace() && **c != ';')
            .collect()
    }

    fn substitution(&mut self) -> Result<Subst, String> {
        let start = self.pos;
        if self.peek() != Some('s') {
            let word = self.rest_word();
            let what = if word.starts_with("tr") || word.starts_with('y') {
                "transliteration (tr///) is not supported"
            } else {
                "only s/regex/replacement/flags substitutions are allowed (mirror.pl ran this \
                 value as Perl code)"
            };
            return Err(format!("`{word}`: {what}"));
        }
        self.pos += 1;
        let open = match self.peek() {
            Some(c) if !c.is_alphanumeric() && c != '_' && !c.is_whitespace() => c,
            _ => {
                let word = self.rest_word();
                return Err(format!(
                    "`{word}` is not a substitution: expected `s` and a delimiter, as in `s/old/new/`"
                ));
            }
        };
        self.pos += 1;
        let (pattern, replacement) = match closing(open) {
            Some(close) => {
                let pattern = self.bracketed(open, close)?;
                while self.peek().is_some_and(char::is_whitespace) {
                    self.pos += 1;
                }
                let open2 = self
                    .peek()
                    .ok_or("missing replacement part of the substitution")?;
                self.pos += 1;
                let replacement = match closing(open2) {
                    Some(close2) => self.bracketed(open2, close2)?,
                    None => self.delimited(open2)?,
                };
                (pattern, replacement)
            }
            None => {
                let pattern = self.delimited(open)?;
                let replacement = self.delimited(open)?;
                (pattern, replacement)
            }
        };
        let mut flags = String::new();
        let mut global = false;
        while let Some(c) = self.peek().filter(char::is_ascii_alphabetic) {
            self.pos += 1;
            match c {
                'g' => global = true,
                'i' | 'x' | 's' | 'm' => {
                    if !flags.contains(c) {
                        flags.push(c);
                    }
                }
                'e' => {
                    return Err(
                        "the `e` flag (run the replacement as code) is not supported".into(),
                    );
                }
                other => {
                    return Err(format!(
                        "unknown substitution flag `{other}` (allowed: g i x s m)"
                    ));
                }
            }
        }
        let whole: String = self.chars[start..self.pos].iter().collect();
        if pattern.is_empty() {
            return Err(format!(
                "`{whole}`: an empty pattern (Perl's \"last successful pattern\") is not supported"
            ));
        }
        check_interpolation(&pattern).map_err(|e| format!("`{whole}`: {e}"))?;
        let pattern = perlre::compile_with_flags(&pattern, &flags)
            .map_err(|e| format!("`{whole}`: invalid regex: {e}"))?;
        let replacement =
            replacement_template(&replacement).map_err(|e| format!("`{whole}`: {e}"))?;
        Ok(Subst {
            pattern,
            replacement,
            global,
        })
    }

    /// Text up to the next unescaped `delim`; `\delim` becomes `delim`.
    fn delimited(&mut self, delim: char) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == '\\' {
                match self.peek() {
                    Some(n) if n == delim => {
                        self.pos += 1;
                        out.push(n);
                    }
                    Some(n) => {
                        self.pos += 1;
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else if c == delim {
                return Ok(out);
            } else {
                out.push(c);
            }
        }
        Err(format!("missing closing `{delim}` in substitution"))
    }

    /// Text up to the `close` that balances `open` (already consumed); escapes are kept.
    fn bracketed(&mut self, open: char, close: char) -> Result<String, String> {
        let mut out = String::new();
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == '\\' {
                out.push(c);
                if let Some(n) = self.peek() {
                    self.pos += 1;
                    out.push(n);
                }
                continue;
            }
            if c == open {
                depth += 1;
            } else if c == close {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
            }
            out.push(c);
        }
        Err(format!("missing closing `{close}` in substitution"))
    }
}

/// Perl would interpolate `$name` and `@name` into the pattern; we run no code, so say so.
fn check_interpolation(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            c @ ('$' | '@') => {
                if let Some(&n) = chars.get(i + 1)
                    && (n.is_alphabetic() || n == '_' || n == '{' || (c == '$' && n == ':'))
                {
                    let name: String = chars[i..]
                        .iter()
                        .take_while(|c| !c.is_whitespace() && !matches!(c, '/' | ')' | '|'))
                        .collect();
                    return Err(format!(
                        "Perl would interpolate the variable `{name}` into the pattern; \
                         variables are not supported (escape the `{c}` with a backslash)"
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Converts a Perl replacement into fancy-regex's expansion syntax: literal `$` doubled,
/// groups as `${N}` / `${name}`. (An escaped non-bracketing delimiter was already reduced by
/// the reader.)
fn replacement_template(text: &str) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let push_lit = |out: &mut String, c: char| {
        if c == '$' {
            out.push_str("$$");
        } else {
            out.push(c);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    push_lit(&mut out, '\\');
                    break;
                };
                i += 1;
                match n {
                    '1'..='9' => {
                        let mut num = n.to_string();
                        while let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                            num.push(d);
                            i += 1;
                        }
                        out.push_str(&format!("${{{num}}}"));
                    }
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'f' => out.push('\u{0c}'),
                    'e' => out.push('\u{1b}'),
                    'a' => out.push('\u{07}'),
                    '0' => out.push('\0'),
                    'u' | 'l' | 'U' | 'L' | 'E' | 'Q' | 'F' => {
                        return Err(format!(
                            "case-changing escape `\\{n}` in the replacement is not supported"
                        ));
                    }
                    other => push_lit(&mut out, other),
                }
            }
            '$' => match chars.get(i) {
                Some(&d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                        num.push(d);
                        i += 1;
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('&') => {
                    i += 1;
                    out.push_str("${0}");
                }
                Some('{') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == '}')
                        .ok_or("missing `}` after `${` in the replacement")?;
                    let inner: String = chars[i + 1..i + end].iter().collect();
                    i += end + 1;
                    if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                        out.push_str(&format!("${{{inner}}}"));
                    } else {
                        return Err(format!(
                            "Perl would interpolate the variable `${{{inner}}}`; variables are \
                             not supported in replacements (use $1, ${{1}} or $+{{name}})"
                        ));
                    }
                }
                Some('+') if chars.get(i + 1) == Some(&'{') => {
                    let end = chars[i + 1..]
                        .iter()
                        .position(|&c| c == '}')
                        .ok_or("missing `}` after `$+{` in the replacement")?;
                    let name: String = chars[i + 2..i + 1 + end].iter().collect();
                    i += end + 2;
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(&n) if n.is_alphabetic() || n == '_' => {
                    let name: String = chars[i..]
                        .iter()
                        .take_while(|c| c.is_alphanumeric() || **c == '_')
                        .collect();
                    return Err(format!(
                        "Perl would interpolate the variable `${name}`; variables are not \
                         supported in replacements (write `\\$` for a literal dollar)"
                    ));
                }
                _ => out.push_str("$$"),
            },
            '@' if chars
                .get(i)
                .is_some_and(|n| n.is_alphabetic() || *n == '_' || *n == '{') =>
            {
                return Err(
                    "Perl would interpolate an array (`@name`) here; write `\\@` for a literal `@`"
                        .into(),
                );
            }
            other => push_lit(&mut out, other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(code: &str, input: &str) -> String {
        parse(code)
            .unwrap_or_else(|e| panic!("{code}: {e}"))
            .apply(input)
            .0
    }

    #[test]
    fn builtin_compress_conv_expr() {
        let s = parse(r"s/\.Z$/.gz/;s/\.taz$/.tgz/").unwrap();
        assert_eq!(s.0.len(), 2);
        assert_eq!(s.apply("a/b.Z").0, "a/b.gz");
        assert_eq!(s.apply("x.taz").0, "x.tgz");
        assert_eq!(s.apply("x.tar").0, "x.tar");
    }

    #[test]
    fn other_delimiters_as_perl() {
        assert_eq!(apply(r"s:\.\./:__/:g", "../../etc"), "__/__/etc");
        assert_eq!(
            apply(r"s:^Filename\: ::", "Filename: pool/a.deb"),
            "pool/a.deb"
        );
        assert_eq!(apply(r"s|a\|b|X|", "a|b"), "X|b");
        assert_eq!(apply(r"s,/,\,,", "a/b"), "a,b");
        assert_eq!(apply(r"s{a\{b\}}{X}", "a{b}"), "X");
        assert_eq!(apply(r"s(a(b)) [<$1>]", "xab"), "x<b>");
        assert_eq!(apply(r"s#a#X#", "ab"), "Xb");
    }

    #[test]
    fn separators_and_flags() {
        assert_eq!(apply("s/a/b/g s/B/c/i;;  s/x/y/", "aAx"), "cAy");
        assert_eq!(apply("s/ a b /X/x", "ab"), "X");
        assert_eq!(apply("s/^b/X/mg", "a\nb"), "a\nX");
        assert_eq!(apply("s/a.b/X/s", "a\nb"), "X");
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" ; ").unwrap().is_empty());
    }

    #[test]
    fn replacement_groups_and_escapes() {
        assert_eq!(apply(r"s/(a)(b)/$2$1/", "ab"), "ba");
        assert_eq!(apply(r"s/(a)/${1}x/", "a"), "ax");
        assert_eq!(apply(r"s/(a)/\1\1/", "a"), "aa");
        assert_eq!(apply(r"s/a/$&!/", "a"), "a!");
        assert_eq!(apply(r"s/(?<n>a)/<$+{n}>/", "a"), "<a>");
        assert_eq!(apply(r"s/a/\$x$/", "a"), "$x$");
        assert_eq!(apply(r"s/a/\\/", "a"), "\\");
        assert_eq!(apply(r"s/a/x\ty/", "a"), "x\ty");
        assert_eq!(apply(r"s/\//\\/g", "a/b/c"), "a\\b\\c");
    }

    #[test]
    fn apply_reports_whether_anything_matched() {
        let s = parse(r"s:^Filename\: ::").unwrap();
        assert!(s.apply("Filename: a").1);
        assert!(!s.apply("Size: 1").1);
    }

    #[test]
    fn refuses_code() {
        for (code, what) in [
            ("print 1", "only s/regex/replacement/flags"),
            ("tr/a-z/A-Z/", "transliteration"),
            ("s/a/b/e", "`e` flag"),
            ("s/a/b/q", "unknown substitution flag"),
            ("s/a/b", "missing closing"),
            ("s/a/b/ x", "only s/"),
            ("s/a/b/;$x=1", "only s/"),
            ("s/$x/b/", "variable `$x`"),
            ("s/a/$x/", "variable `$x`"),
            ("s/a/@x/", "array"),
            ("s/a/\\U$1/", "case-changing"),
            ("s//b/", "empty pattern"),
            ("s/(/b/", "invalid regex"),
            ("sa", "not a substitution"),
        ] {
            let e = parse(code).unwrap_err();
            assert!(e.contains(what), "{code}: {e}");
        }
    }

    #[test]
    fn dollar_anchor_is_not_a_variable() {
        assert_eq!(apply(r"s/x$//", "ax"), "a");
        assert_eq!(apply(r"s/(a|x$)//g", "ax"), "");
        assert_eq!(apply(r"s/\$HOME/h/", "$HOME"), "h");
    }
}
