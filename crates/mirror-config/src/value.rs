//! Value interpretation (spec §1.5): how the raw text of a keyword becomes a boolean, a mode,
//! a size, a limit, a regex or an expanded template, including mirror.pl's quirks that old
//! packages files rely on (`<file` indirection, Perl single-quote unescaping, regex `|`
//! sanitising). Each reader returns the value and, where we read the text differently from
//! mirror.pl, a warning saying how.

use std::path::Path;

use crate::package::DeleteLimit;

/// A value we accept but that mirror.pl read differently: the warning text and a help line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    pub message: String,
    pub help: String,
}

/// Perl single-quoted string rules, which mirror.pl applied to every non-boolean value:
/// `\\` becomes `\` and `\'` becomes `'`; every other backslash stays.
pub(crate) fn unescape_single_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n @ ('\\' | '\'')) = chars.peek()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// `<file` indirection: the first line of the file (its line ending removed). Leading and
/// trailing whitespace of the name is ignored, as Perl's two-argument `open` did; a relative
/// name is relative to the current directory (mirror.pl's start directory).
pub(crate) fn read_indirect(name: &str) -> Result<String, String> {
    let name = name.trim();
    let text = std::fs::read(Path::new(name))
        .map_err(|e| format!("cannot read value file `{name}`: {e}"))?;
    let text = String::from_utf8_lossy(&text);
    let line = text.split('\n').next().unwrap_or("");
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

const TRUE_WORDS: [&str; 5] = ["1", "yes", "ok", "true", "on"];
const FALSE_WORDS: [&str; 5] = ["0", "no", "false", "off", ""];

/// Keywords mirror.pl tested for Perl truth (`if ($chmod)`) instead of its boolean words.
fn perl_truth_keyword(keyword: &str) -> bool {
    matches!(keyword, "chmod" | "vms_keep_versions")
}

/// Reads a boolean. True: `1 yes ok true on`; false: `0 no false off` and empty; any case,
/// surrounding whitespace ignored. Anything else is an error. The note says when mirror.pl
/// would have read the text the other way.
pub(crate) fn parse_bool(keyword: &str, raw: &str) -> Result<(bool, Option<Note>), String> {
    let t = raw.trim();
    let lower = t.to_ascii_lowercase();
    let ours = if TRUE_WORDS.contains(&lower.as_str()) {
        true
    } else if FALSE_WORDS.contains(&lower.as_str()) {
        false
    } else {
        return Err(format!(
            "`{t}` is not a boolean: write 1, yes, true (or 0, no, false)"
        ));
    };
    let theirs = if perl_truth_keyword(keyword) {
        // mirror.pl's `if ($chmod)`: only "" and "0" are false.
        !(raw.is_empty() || raw == "0")
    } else {
        // mirror.pl evaluated `istrue(VALUE)` as Perl code, so whitespace around the word
        // vanished, but the word had to be exactly one of these.
        matches!(t, "1" | "yes" | "ok" | "true")
    };
    let note = (ours != theirs).then(|| Note {
        message: format!(
            "boolean `{t}` is read as {ours} here, but mirror.pl read it as {theirs}{}",
            if perl_truth_keyword(keyword) {
                format!(" for `{keyword}`")
            } else {
                String::new()
            }
        ),
        help: format!(
            "write `{}` to mean the same to both",
            if ours { "1" } else { "0" }
        ),
    });
    Ok((ours, note))
}

/// Reads an unsigned decimal number.
pub(crate) fn parse_number(raw: &str) -> Result<u64, String> {
    let t = raw.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{t}` is not a whole number"));
    }
    t.parse().map_err(|_| format!("`{t}` is too large"))
}

/// Reads a TCP port.
pub(crate) fn parse_port(raw: &str) -> Result<u16, String> {
    let n = parse_number(raw)?;
    match u16::try_from(n) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("port `{}` is not between 1 and 65535", raw.trim())),
    }
}

/// Reads permission bits. A leading `0` means octal, as in mirror.pl. Without it mirror.pl
/// read the digits as decimal, which for `644` gives nonsense (octal 01204), so digits 0-7 are
/// read as octal here, with a note; digits with an 8 or 9 are decimal as in mirror.pl (`420`
/// is not affected: it has no 8 or 9, so it is octal 0420 here — see the note).
pub(crate) fn parse_mode(raw: &str) -> Result<(u32, Option<Note>), String> {
    let t = raw.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{t}` is not a mode: write octal digits such as 0644"
        ));
    }
    let (value, note) = if t.starts_with('0') {
        if !t.chars().all(|c| c.is_digit(8)) {
            return Err(format!("`{t}` is not an octal number (digits 0-7 only)"));
        }
        (
            u32::from_str_radix(t, 8).map_err(|_| format!("`{t}` is too large"))?,
            None,
        )
    } else if t.chars().all(|c| c.is_digit(8)) {
        let v = u32::from_str_radix(t, 8).map_err(|_| format!("`{t}` is too large"))?;
        let decimal: u64 = t.parse().unwrap_or(0);
        (
            v,
            Some(Note {
                message: format!(
                    "mode `{t}` has no leading 0: read as octal 0{v:o} here, but mirror.pl read it \
                     as decimal {decimal} (octal 0{decimal:o})"
                ),
                help: format!("write `0{v:o}`"),
            }),
        )
    } else {
        let v: u32 = t.parse().map_err(|_| format!("`{t}` is too large"))?;
        (
            v,
            Some(Note {
                message: format!("mode `{t}` is read as decimal (octal 0{v:o}), as mirror.pl did"),
                help: format!("write `0{v:o}`"),
            }),
        )
    };
    if value > 0o7777 {
        return Err(format!(
            "mode `{t}` (octal 0{value:o}) is larger than 07777"
        ));
    }
    Ok((value, note))
}

/// Reads a size: digits with an optional `k` (1024), `m` (1048576) or `b` (512) suffix, any
/// case, optionally separated by whitespace.
pub(crate) fn parse_size(raw: &str) -> Result<u64, String> {
    let t = raw.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(digits_end);
    let bad = || {
        format!(
            "`{t}` is not a size: write a number of bytes, optionally followed by k, m or b (512-byte blocks)"
        )
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let factor = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1024,
        "m" => 1024 * 1024,
        "b" => 512,
        _ => return Err(bad()),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{t}` is too large"))
}

/// Reads `N` or `N%` (1 to 100 percent; `0%` refuses every deletion, as mirror.pl's silly
/// percentage did).
pub(crate) fn parse_delete_limit(raw: &str) -> Result<DeleteLimit, String> {
    let t = raw.trim();
    if let Some(p) = t.strip_suffix('%') {
        let n = parse_number(p).map_err(|_| format!("`{t}` is not a count or a percentage"))?;
        if n > 100 {
            return Err(format!("`{t}`: a percentage must be between 0% and 100%"));
        }
        return Ok(DeleteLimit::Percent(n as u32));
    }
    parse_number(t)
        .map(DeleteLimit::Count)
        .map_err(|_| format!("`{t}` is not a count (N) or a percentage (N%)"))
}

/// mirror.pl's regex sanitising: runs of `|` become one and a leading or trailing `|` is
/// dropped, since an empty alternative would match everything. Only `|` that are alternation
/// operators are touched; an escaped `\|` or a `|` inside `[...]` is left alone (mirror.pl
/// mangled those too).
pub(crate) fn sanitize_alternation(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    // Whether the last character pushed was an alternation `|`.
    let mut last_was_bar = false;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == '\\' {
            out.push(c);
            if let Some(&n) = chars.get(i) {
                out.push(n);
                i += 1;
            }
            last_was_bar = false;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                // A `]` (after an optional `^`) right after `[` is literal.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
                last_was_bar = false;
            }
            '|' => {
                if !last_was_bar && !out.is_empty() {
                    out.push('|');
                }
                last_was_bar = true;
            }
            _ => {
                out.push(c);
                last_was_bar = false;
            }
        }
    }
    if last_was_bar {
        out.pop();
    }
    out.into_iter().collect()
}

/// The variables a template may use.
pub(crate) const TEMPLATE_VARS: [&str; 6] = [
    "package",
    "site",
    "remote_dir",
    "local_dir",
    "comment",
    "hostname",
];

/// Expands `$name` and `${name}` for the [`TEMPLATE_VARS`]; `\$` is a literal `$` and `\\` a
/// backslash (the double-quote rules mirror.pl's `eval` applied). A `$` not followed by a name
/// is itself. Nothing is evaluated.
pub(crate) fn expand_template(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' if matches!(chars.get(i), Some('$' | '\\' | '@' | '"')) => {
                out.push(chars[i]);
                i += 1;
            }
            '$' => {
                let (name, next) = if chars.get(i) == Some(&'{') {
                    match chars[i..].iter().position(|&c| c == '}') {
                        Some(end) => (
                            chars[i + 1..i + end].iter().collect::<String>(),
                            i + end + 1,
                        ),
                        None => return Err("missing `}` after `${`".into()),
                    }
                } else {
                    let name: String = chars[i..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .collect();
                    let len = name.chars().count();
                    (name, i + len)
                };
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                    out.push('$');
                    continue;
                }
                match lookup(&name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        return Err(format!(
                            "unknown variable `${name}` (known: {})",
                            TEMPLATE_VARS.map(|v| format!("${v}")).join(" ")
                        ));
                    }
                }
                i = next;
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_quote_unescaping() {
        assert_eq!(unescape_single_quoted(r"a\\b\'c d\e"), r"a\b'c d\e");
        assert_eq!(unescape_single_quoted(r"\\.x|y"), r"\.x|y");
        assert_eq!(unescape_single_quoted(r"ends\"), r"ends\");
        assert_eq!(unescape_single_quoted("'quoted'"), "'quoted'");
    }

    #[test]
    fn booleans() {
        for t in [
            "1", "yes", "ok", "true", " true ", "True", "YES", "on", "On",
        ] {
            assert!(parse_bool("do_deletes", t).unwrap().0, "{t}");
        }
        for f in ["0", "no", "false", "", "False", "off", "  "] {
            assert!(!parse_bool("do_deletes", f).unwrap().0, "{f}");
        }
        assert!(parse_bool("do_deletes", "maybe").is_err());
        // Notes only where mirror.pl differs.
        assert!(parse_bool("do_deletes", "true").unwrap().1.is_none());
        assert!(parse_bool("do_deletes", " yes ").unwrap().1.is_none());
        assert!(parse_bool("do_deletes", "False").unwrap().1.is_none());
        assert!(parse_bool("do_deletes", "True").unwrap().1.is_some());
        assert!(parse_bool("do_deletes", "on").unwrap().1.is_some());
        // chmod was tested for Perl truth: "false" was true there.
        assert!(parse_bool("chmod", "false").unwrap().1.is_some());
        assert!(parse_bool("chmod", "0").unwrap().1.is_none());
        assert!(parse_bool("chmod", "yes").unwrap().1.is_none());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0644").unwrap(), (0o644, None));
        assert_eq!(parse_mode("07022").unwrap().0, 0o7022);
        let (v, note) = parse_mode("644").unwrap();
        assert_eq!(v, 0o644);
        assert!(note.unwrap().message.contains("decimal 644 (octal 01204)"));
        let (v, note) = parse_mode("493").unwrap();
        assert_eq!(v, 0o755);
        assert!(note.is_some());
        assert!(parse_mode("0899").is_err());
        assert!(parse_mode("rw-r--r--").is_err());
        assert!(parse_mode("017777").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("102400").unwrap(), 102_400);
        assert_eq!(parse_size("2k").unwrap(), 2048);
        assert_eq!(parse_size("2 K").unwrap(), 2048);
        assert_eq!(parse_size("3m").unwrap(), 3 << 20);
        assert_eq!(parse_size("1b").unwrap(), 512);
        assert!(parse_size("2 GB").is_err());
        assert!(parse_size("k").is_err());
    }

    #[test]
    fn delete_limits() {
        assert_eq!(parse_delete_limit("10%").unwrap(), DeleteLimit::Percent(10));
        assert_eq!(
            parse_delete_limit("100%").unwrap(),
            DeleteLimit::Percent(100)
        );
        assert_eq!(parse_delete_limit(" 50 ").unwrap(), DeleteLimit::Count(50));
        assert!(parse_delete_limit("101%").is_err());
        assert!(parse_delete_limit("lots").is_err());
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitize_alternation("|a||b|"), "a|b");
        assert_eq!(sanitize_alternation("a|||b"), "a|b");
        assert_eq!(sanitize_alternation(r"a\||b"), r"a\||b");
        assert_eq!(sanitize_alternation(r"[|]|x"), r"[|]|x");
        assert_eq!(sanitize_alternation(r"[]|]|"), r"[]|]");
        assert_eq!(sanitize_alternation("||"), "");
        assert_eq!(sanitize_alternation(r"foo\|"), r"foo\|");
    }

    #[test]
    fn templates() {
        let look = |n: &str| match n {
            "package" => Some("gnu".to_string()),
            "site" => Some("ftp.gnu.org".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_template("-s 'mirror update of $package from ${site}'", look).unwrap(),
            "-s 'mirror update of gnu from ftp.gnu.org'"
        );
        assert_eq!(
            expand_template(r"cost \$5 $ $1", look).unwrap(),
            "cost $5 $ $1"
        );
        let e = expand_template("/var/$date", look).unwrap_err();
        assert!(e.contains("unknown variable `$date`"), "{e}");
    }
}
