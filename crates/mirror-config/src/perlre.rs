//! Perl regular expressions on top of fancy-regex: a translation pass that rewrites the Perl
//! constructs fancy-regex reads differently (or not at all) into equivalent fancy-regex syntax,
//! then compiles. What cannot be supported is listed in `crates/mirror-config/REGEX.md`.
//!
//! Rewrites, each because fancy-regex (following Rust's regex crate or Oniguruma) would give
//! the Perl text another meaning or reject it:
//! - `\<` `\>` are literal in Perl, word boundaries in Rust;
//! - `\h` `\H` are horizontal space in Perl, hex digits in Oniguruma; `\v` `\V` are vertical
//!   space in Perl, one control character in Rust;
//! - inside `[...]`: a `[` that does not start `[:posix:]`, `&&`, `--`, `~~` are literal in
//!   Perl but nested classes / set operations in Rust; a `-` after `\d` is literal in Perl;
//! - `\0`, `\012`, `\o{..}` octal, `\x9` (one hex digit), `\cX`, `\N{U+..}`: spelled as `\x{..}`;
//! - `\g1` `\g{1}` `\g{-1}` `\g{name}` `\k{name}` `\k'name'` backreferences: spelled `\1` or
//!   `\k<name>`; `(?'name'...)` named groups: spelled `(?<name>...)`;
//! - `(?^...)` and the no-op flags `d l u p`: spelled with Rust's flag syntax;
//! - `\Q...\E` quoting; unknown letter escapes such as `\y` mean the letter itself, as in Perl.

use crate::package::Pattern;

/// Compiles Perl regex `source` (already sanitised), case-insensitive if `caseless`.
pub(crate) fn compile(source: &str, caseless: bool) -> Result<Pattern, String> {
    compile_with_flags(source, if caseless { "i" } else { "" })
}

/// Compiles Perl regex `source` with Perl match flags (`i`, `x`, `s`, `m`) from `flags`.
pub(crate) fn compile_with_flags(source: &str, flags: &str) -> Result<Pattern, String> {
    let translated = translate(source, flags.contains('x'))?;
    let full = if flags.is_empty() {
        translated
    } else {
        format!("(?{flags}){translated}")
    };
    let regex = fancy_regex::Regex::new(&full).map_err(|e| clean_error(&e))?;
    Ok(Pattern {
        source: source.to_owned(),
        regex,
    })
}

/// fancy-regex's messages talk about positions in the translated text, which would only confuse;
/// the position is dropped, and the regex crate's own explanation is dug out of its error.
fn clean_error(err: &fancy_regex::Error) -> String {
    match err {
        fancy_regex::Error::ParseError(_, e) => e.to_string(),
        fancy_regex::Error::CompileError(e) => match &**e {
            fancy_regex::CompileError::InnerError(build) => {
                let Some(syntax) = build.syntax_error() else {
                    return build.to_string();
                };
                // Its message draws the pattern with carets over several lines; the line
                // starting `error:` says what is wrong.
                let text = syntax.to_string();
                text.lines()
                    .find_map(|l| l.strip_prefix("error:"))
                    .map_or_else(|| text.clone(), |l| l.trim().to_owned())
            }
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// Rewrites Perl regex syntax into fancy-regex syntax with the same meaning.
pub(crate) fn translate(src: &str, extended: bool) -> Result<String, String> {
    let mut t = Translator {
        chars: src.chars().collect(),
        pos: 0,
        out: String::with_capacity(src.len() + 8),
        groups: 0,
        extended,
    };
    t.run()?;
    Ok(t.out)
}

struct Translator {
    chars: Vec<char>,
    pos: usize,
    out: String,
    /// Capture groups opened so far, for relative backreferences (`\g{-1}`).
    groups: usize,
    /// `/x` in force: `#` starts a comment, which must be copied untouched.
    extended: bool,
}

/// One item inside a bracketed class.
enum ClassItem {
    /// A single character, which can start or end a range.
    Char(char),
    /// A class escape or POSIX class, copied as this text.
    Set(String),
}

impl Translator {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn looking_at(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => self.escape_outside()?,
                '[' => self.class()?,
                '(' => self.group_open()?,
                '#' if self.extended => {
                    self.out.push('#');
                    while let Some(c) = self.peek() {
                        self.pos += 1;
                        self.out.push(c);
                        if c == '\n' {
                            break;
                        }
                    }
                }
                _ => self.out.push(c),
            }
        }
        Ok(())
    }

    /// After `(`.
    fn group_open(&mut self) -> Result<(), String> {
        if self.peek() != Some('?') {
            if self.peek() != Some('*') {
                self.groups += 1;
            }
            self.out.push('(');
            return Ok(());
        }
        self.pos += 1; // '?'
        match self.peek() {
            Some('#') => {
                // Comment group: dropped (it ends at the first `)`, as in Perl).
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == ')' {
                        return Ok(());
                    }
                }
                Err("unterminated (?#...) comment".into())
            }
            Some('\'') => {
                self.pos += 1;
                let name = self.take_until('\'')?;
                self.groups += 1;
                self.out.push_str(&format!("(?<{name}>"));
                Ok(())
            }
            Some('<') if !matches!(self.peek_at(1), Some('=' | '!')) => {
                self.groups += 1;
                self.out.push_str("(?");
                Ok(())
            }
            Some('P') if self.peek_at(1) == Some('<') => {
                self.groups += 1;
                self.out.push_str("(?");
                Ok(())
            }
            Some('|') => Err("branch reset groups `(?|...)` are not supported".into()),
            Some('{') => Err("code blocks `(?{...})` are not supported".into()),
            Some('?') if self.peek_at(1) == Some('{') => {
                Err("code blocks `(??{...})` are not supported".into())
            }
            Some(c) if c == '^' || c == '-' || c.is_ascii_alphabetic() => self.flag_group(),
            _ => {
                self.out.push_str("(?");
                Ok(())
            }
        }
    }

    /// `(?flags)` or `(?flags:`, after `(?`.
    fn flag_group(&mut self) -> Result<(), String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c == '^' || c == '-' || c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let spec: String = self.chars[start..self.pos].iter().collect();
        let is_flags = spec.chars().all(|c| "^-imsxdlupan".contains(c));
        let Some(end @ (')' | ':')) = self.peek().filter(|_| is_flags) else {
            // Not a flag group after all (e.g. `(?R)` or `(?P=name)`): copy it.
            self.out.push_str("(?");
            self.out.push_str(&spec);
            return Ok(());
        };
        self.pos += 1;
        let (caret, spec) = match spec.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, spec.as_str()),
        };
        let (on, off) = spec.split_once('-').unwrap_or((spec, ""));
        let keep = |s: &str| -> Result<String, String> {
            let mut k = String::new();
            for c in s.chars() {
                match c {
                    'i' | 'm' | 's' | 'x' => k.push(c),
                    // Character-set modifiers: Unicode rules are what we use anyway.
                    'd' | 'l' | 'u' | 'p' => {}
                    'a' => return Err("the `a` (ASCII) modifier is not supported".into()),
                    'n' => {
                        return Err("the `n` (no capture) modifier is not supported".into());
                    }
                    _ => return Err(format!("unknown modifier `{c}`")),
                }
            }
            Ok(k)
        };
        let on = keep(on)?;
        let mut off = keep(off)?;
        if caret {
            // `(?^...)`: back to the defaults, then `on`.
            off = "imsx".chars().filter(|c| !on.contains(*c)).collect();
        }
        if on.contains('x') {
            self.extended = true;
        } else if off.contains('x') {
            self.extended = false;
        }
        if on.is_empty() && off.is_empty() {
            self.out.push_str(if end == ':' { "(?:" } else { "" });
            return Ok(());
        }
        self.out.push_str("(?");
        self.out.push_str(&on);
        if !off.is_empty() {
            self.out.push('-');
            self.out.push_str(&off);
        }
        self.out.push(end);
        Ok(())
    }

    fn take_until(&mut self, end: char) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == end {
                return Ok(self.chars[start..self.pos - 1].iter().collect());
            }
        }
        Err(format!("missing `{end}`"))
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool, max: usize) -> String {
        let start = self.pos;
        while self.pos - start < max && self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A character escape shared by both contexts (`\x..`, octal, `\c`, `\e`...), after the
    /// backslash and the letter `c`. `None` if `c` does not start one.
    fn char_escape(&mut self, c: char) -> Result<Option<char>, String> {
        let ch = match c {
            '0' => {
                let digits = self.take_while(|c| c.is_digit(8), 2);
                from_radix(&format!("0{digits}"), 8)?
            }
            'o' if self.peek() == Some('{') => {
                self.pos += 1;
                let digits = self.take_until('}')?;
                from_radix(digits.trim(), 8)?
            }
            'x' if self.peek() == Some('{') => {
                self.pos += 1;
                let digits = self.take_until('}')?;
                let digits = digits.trim();
                from_radix(if digits.is_empty() { "0" } else { digits }, 16)?
            }
            'x' => {
                let digits = self.take_while(|c| c.is_ascii_hexdigit(), 2);
                from_radix(if digits.is_empty() { "0" } else { &digits }, 16)?
            }
            'c' => {
                let Some(x) = self.peek() else {
                    return Err("`\\c` at the end of the pattern".into());
                };
                self.pos += 1;
                char::from_u32(u32::from(x.to_ascii_uppercase()) ^ 64)
                    .ok_or_else(|| format!("invalid control character `\\c{x}`"))?
            }
            'N' if self.peek() == Some('{') => {
                self.pos += 1;
                let name = self.take_until('}')?;
                match name.strip_prefix("U+") {
                    Some(hex) => from_radix(hex, 16)?,
                    None => {
                        return Err(format!(
                            "named characters `\\N{{{name}}}` are not supported; write `\\x{{...}}`"
                        ));
                    }
                }
            }
            'e' => '\u{1b}',
            'a' => '\u{07}',
            'f' => '\u{0c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            _ => return Ok(None),
        };
        Ok(Some(ch))
    }

    /// After a backslash outside a class.
    fn escape_outside(&mut self) -> Result<(), String> {
        let Some(c) = self.peek() else {
            return Err("trailing backslash".into());
        };
        self.pos += 1;
        if c != '0'
            && let Some(ch) = self.char_escape(c)?
        {
            push_literal(&mut self.out, ch);
            return Ok(());
        }
        match c {
            '0' => {
                let ch = self.char_escape('0')?.unwrap_or('\0');
                push_literal(&mut self.out, ch);
            }
            '1'..='9' => {
                let digits = format!("{c}{}", self.take_while(|c| c.is_ascii_digit(), 8));
                let n: usize = digits.parse().unwrap_or(usize::MAX);
                // Perl: `\10` and up are octal escapes unless that many groups exist.
                if n > 9 && n > self.groups && digits.chars().all(|c| c.is_digit(8)) {
                    let oct: String = digits.chars().take(3).collect();
                    push_literal(&mut self.out, from_radix(&oct, 8)?);
                    for d in digits.chars().skip(3) {
                        self.out.push(d);
                    }
                } else {
                    self.out.push('\\');
                    self.out.push_str(&digits);
                }
            }
            'g' => self.backref_g()?,
            'k' => {
                let close = match self.peek() {
                    Some('<') => '>',
                    Some('{') => '}',
                    Some('\'') => '\'',
                    _ => return Err("`\\k` must be followed by <name>".into()),
                };
                self.pos += 1;
                let name = self.take_until(close)?;
                self.out.push_str(&format!("\\k<{name}>"));
            }
            'h' => self.out.push_str(HSPACE),
            'H' => self.out.push_str(NOT_HSPACE),
            'v' => self.out.push_str(VSPACE),
            'V' => self.out.push_str(NOT_VSPACE),
            'Q' => {
                // Quote up to `\E` (or the end).
                while let Some(ch) = self.peek() {
                    if self.looking_at("\\E") {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                    push_literal(&mut self.out, ch);
                }
            }
            'E' => {}
            'l' | 'u' | 'L' | 'U' | 'F' => {
                return Err(format!("case-changing escape `\\{c}` is not supported"));
            }
            'X' => return Err("`\\X` (grapheme cluster) is not supported".into()),
            'p' | 'P' => {
                self.out.push('\\');
                self.out.push(c);
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let name = self.take_until('}')?;
                    self.out.push_str(&format!("{{{name}}}"));
                } else if let Some(n) = self.peek() {
                    self.pos += 1;
                    self.out.push(n);
                }
            }
            'b' | 'B' if self.peek() == Some('{') => {
                return Err(format!("`\\{c}{{...}}` boundaries are not supported"));
            }
            // Perl escapes fancy-regex reads the same way.
            'A' | 'z' | 'Z' | 'b' | 'B' | 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'G' | 'K' | 'R'
            | 'N' => {
                self.out.push('\\');
                self.out.push(c);
            }
            // Any other escaped character means itself (Perl warns for unknown letters).
            _ => push_literal(&mut self.out, c),
        }
        Ok(())
    }

    /// `\g1`, `\g{1}`, `\g{-1}`, `\g{name}`, after `\g`.
    fn backref_g(&mut self) -> Result<(), String> {
        let reference = if self.peek() == Some('{') {
            self.pos += 1;
            self.take_until('}')?
        } else {
            let neg = if self.peek() == Some('-') {
                self.pos += 1;
                "-"
            } else {
                ""
            };
            format!("{neg}{}", self.take_while(|c| c.is_ascii_digit(), 8))
        };
        let reference = reference.trim();
        if let Some(rel) = reference.strip_prefix('-') {
            let n: usize = rel
                .parse()
                .map_err(|_| format!("invalid backreference `\\g{{{reference}}}`"))?;
            if n == 0 || n > self.groups {
                return Err(format!(
                    "backreference `\\g{{{reference}}}` points before the first group"
                ));
            }
            self.out.push_str(&format!("\\{}", self.groups + 1 - n));
        } else if !reference.is_empty() && reference.chars().all(|c| c.is_ascii_digit()) {
            self.out.push_str(&format!("\\{reference}"));
        } else if !reference.is_empty() {
            self.out.push_str(&format!("\\k<{reference}>"));
        } else {
            return Err("`\\g` must be followed by a group number or name".into());
        }
        Ok(())
    }

    /// After `[`: a bracketed class, rewritten item by item.
    fn class(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.out.push('[');
        if self.peek() == Some('^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                self.pos = start;
                return Err("unterminated character class `[`".into());
            };
            if c == ']' && !first {
                self.pos += 1;
                self.out.push(']');
                return Ok(());
            }
            first = false;
            let item = self.class_item()?;
            match item {
                ClassItem::Set(s) => {
                    self.out.push_str(&s);
                    // A `-` after a class escape is literal in Perl.
                    if self.peek() == Some('-') && self.peek_at(1) != Some(']') {
                        self.pos += 1;
                        self.out.push_str("\\-");
                    }
                }
                ClassItem::Char(lo) => {
                    if self.peek() == Some('-') && !matches!(self.peek_at(1), None | Some(']')) {
                        self.pos += 1;
                        match self.class_item()? {
                            ClassItem::Char(hi) => {
                                if hi < lo {
                                    return Err(format!(
                                        "invalid range `{lo}-{hi}` in character class"
                                    ));
                                }
                                push_class_char(&mut self.out, lo);
                                self.out.push('-');
                                push_class_char(&mut self.out, hi);
                            }
                            ClassItem::Set(s) => {
                                push_class_char(&mut self.out, lo);
                                self.out.push_str("\\-");
                                self.out.push_str(&s);
                            }
                        }
                    } else {
                        push_class_char(&mut self.out, lo);
                    }
                }
            }
        }
    }

    fn class_item(&mut self) -> Result<ClassItem, String> {
        let c = self.peek().ok_or("unterminated character class `[`")?;
        self.pos += 1;
        match c {
            '[' if matches!(self.peek(), Some(':' | '=' | '.')) => {
                let kind = self.peek().unwrap_or(':');
                // `[:alpha:]`, `[:^alpha:]`
                let rest: String = self.chars[self.pos..].iter().collect();
                let close = format!("{kind}]");
                if let Some(end) = rest[1..].find(&close) {
                    if kind != ':' {
                        return Err(format!("POSIX `[{kind} {kind}]` classes are not supported"));
                    }
                    let body = &rest[..end + 1 + close.len()];
                    self.pos += body.chars().count();
                    return Ok(ClassItem::Set(format!("[{body}")));
                }
                Ok(ClassItem::Char('['))
            }
            '\\' => {
                let e = self.peek().ok_or("trailing backslash")?;
                self.pos += 1;
                if let Some(ch) = self.char_escape(e)? {
                    return Ok(ClassItem::Char(ch));
                }
                Ok(match e {
                    'b' => ClassItem::Char('\u{08}'),
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => ClassItem::Set(format!("\\{e}")),
                    'h' => ClassItem::Set(HSPACE.into()),
                    'H' => ClassItem::Set(NOT_HSPACE.into()),
                    'v' => ClassItem::Set(VSPACE.into()),
                    'V' => ClassItem::Set(NOT_VSPACE.into()),
                    'p' | 'P' => {
                        if self.peek() == Some('{') {
                            self.pos += 1;
                            let name = self.take_until('}')?;
                            ClassItem::Set(format!("\\{e}{{{name}}}"))
                        } else {
                            let n = self.peek().ok_or("`\\p` needs a property")?;
                            self.pos += 1;
                            ClassItem::Set(format!("\\{e}{n}"))
                        }
                    }
                    '1'..='7' => {
                        // Inside a class, digits escapes are octal.
                        let digits = format!("{e}{}", self.take_while(|c| c.is_digit(8), 2));
                        ClassItem::Char(from_radix(&digits, 8)?)
                    }
                    'l' | 'u' | 'L' | 'U' | 'F' | 'Q' | 'E' => {
                        return Err(format!(
                            "escape `\\{e}` inside a character class is not supported"
                        ));
                    }
                    other => ClassItem::Char(other),
                })
            }
            other => Ok(ClassItem::Char(other)),
        }
    }
}

/// Perl's `\h`.
const HSPACE: &str = r"[\t\x{20}\x{a0}\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}]";
const NOT_HSPACE: &str =
    r"[^\t\x{20}\x{a0}\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}]";
/// Perl's `\v`.
const VSPACE: &str = r"[\n\x{0b}\x{0c}\r\x{85}\x{2028}\x{2029}]";
const NOT_VSPACE: &str = r"[^\n\x{0b}\x{0c}\r\x{85}\x{2028}\x{2029}]";

fn from_radix(digits: &str, radix: u32) -> Result<char, String> {
    u32::from_str_radix(digits, radix)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| format!("invalid character code `{digits}`"))
}

/// A literal character outside a class, escaped so that neither fancy-regex nor `/x` reads it
/// as syntax.
fn push_literal(out: &mut String, c: char) {
    if c.is_alphanumeric() || c == '_' {
        out.push(c);
    } else if c.is_ascii_punctuation() && c != '<' && c != '>' {
        out.push('\\');
        out.push(c);
    } else if c.is_ascii_graphic() || (!c.is_ascii() && !c.is_whitespace() && !c.is_control()) {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
    }
}

/// A literal character inside a class.
fn push_class_char(out: &mut String, c: char) {
    match c {
        '\\' | ']' | '[' | '^' | '-' | '&' | '~' | '#' => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_whitespace() || c.is_control() => {
            out.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile(p, false)
            .unwrap_or_else(|e| panic!("{p}: {e}"))
            .is_match(s)
    }

    #[test]
    fn plain_patterns_pass_through() {
        assert_eq!(translate(r"\.tar\.gz$", false).unwrap(), r"\.tar\.gz$");
        assert_eq!(
            translate(r"^(a|b)+[a-z0-9_]*$", false).unwrap(),
            r"^(a|b)+[a-z0-9_]*$"
        );
        assert!(m(r"\.(Z|z|gz)$", "x.gz"));
    }

    #[test]
    fn perl_literals_that_rust_reads_as_syntax() {
        assert!(m(r"\<a\>", "<a>"));
        assert!(m(r"[[]", "["));
        assert!(m(r"[a&&b]", "&"));
        assert!(m(r"[+--]", "-"));
        assert!(m(r"[+--]", ","));
        assert!(
            compile(r"[a--b]", false)
                .unwrap_err()
                .contains("invalid range")
        );
        assert!(m(r"[a~~b]", "~"));
        assert!(m(r"[\d-z]", "-"));
        assert!(m(r"[\d-z]", "z"));
        assert!(!m(r"[\d-z]", "m"));
        assert!(m(r"a{", "a{"));
        assert!(m(r"\y", "y"));
        assert!(m(r"\/\:\@", "/:@"));
    }

    #[test]
    fn perl_escapes() {
        assert!(m(r"a\hb", "a\tb"));
        assert!(!m(r"\h", "a"));
        assert!(m(r"\v", "\n"));
        assert!(!m(r"\v", "v"));
        assert!(m(r"\012", "\n"));
        assert!(m(r"\0", "\0"));
        assert!(m(r"\o{101}", "A"));
        assert!(m(r"\x41\x9", "A\t"));
        assert!(m(r"\cA", "\u{1}"));
        assert!(m(r"\e", "\u{1b}"));
        assert!(m(r"\N{U+263A}", "\u{263a}"));
        assert!(m(r"\Q.*\E.", ".*x"));
        assert!(!m(r"\Q.*\E", "ab"));
        assert!(m(r"[\b]", "\u{8}"));
    }

    #[test]
    fn backreferences_and_groups() {
        assert!(m(r"(a)\g1", "aa"));
        assert!(m(r"(a)\g{1}", "aa"));
        assert!(m(r"(a)(b)\g{-2}", "aba"));
        assert!(m(r"(?<n>a)\g{n}", "aa"));
        assert!(m(r"(?<n>a)\k{n}", "aa"));
        assert!(m(r"(?'n'a)\k'n'", "aa"));
        assert!(m(r"(?#comment)a", "a"));
        assert!(m(r"(?^i:A)", "a"));
        assert!(m(r"(?u)a", "a"));
        assert!(m(r"(?<=x)a(?!b)", "xa"));
        assert!(m(r"a++b", "aab"));
        assert!(m(r"(?>a+)b", "aab"));
    }

    #[test]
    fn extended_mode_comments_are_left_alone() {
        let p = compile_with_flags("a [#] b # a [ comment\n c", "x").unwrap();
        assert!(p.is_match("a#bc"));
    }

    #[test]
    fn unsupported_features_say_so() {
        for (p, what) in [
            (r"(?|a)", "branch reset"),
            (r"(?{ 1 })", "code"),
            (r"\X", "grapheme"),
            (r"\Ua", "case-changing"),
            (r"[[=a=]]", "POSIX"),
        ] {
            let e = compile(p, false).err();
            assert!(e.as_deref().is_some_and(|e| e.contains(what)), "{p}: {e:?}");
        }
        // A plain syntax error carries fancy-regex's message without its positions.
        let e = compile("(a", false).unwrap_err();
        assert!(!e.contains("position"), "{e}");
    }

    #[test]
    fn caseless() {
        assert!(compile(r"\.(Z|z|gz)$", true).unwrap().is_match("A.GZ"));
    }
}
