//! Which character set a page or stylesheet is in, decided the way browsers do: a byte order
//! mark, then what the document says (`<meta charset>` in the first 1024 bytes, CSS
//! `@charset`), then UTF-8 if the bytes are valid UTF-8, then chardetng's guess.

use encoding_rs::{Encoding, UTF_8};

/// The encoding of an HTML page.
pub fn html_encoding(bytes: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    if let Some(enc) = meta_charset(&bytes[..bytes.len().min(1024)]) {
        return enc;
    }
    guess(bytes)
}

/// The encoding of a stylesheet.
pub fn css_encoding(bytes: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    if let Some(rest) = bytes.strip_prefix(b"@charset \"")
        && let Some(end) = rest.iter().take(64).position(|&b| b == b'"')
        && let Some(enc) = Encoding::for_label(&rest[..end])
    {
        // A stylesheet cannot really be UTF-16 if it says so in ASCII (CSS Syntax §3.2).
        return if enc == encoding_rs::UTF_16BE || enc == encoding_rs::UTF_16LE {
            UTF_8
        } else {
            enc
        };
    }
    guess(bytes)
}

fn guess(bytes: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    det.guess(None, chardetng::Utf8Detection::Allow)
}

/// The charset a `<meta>` tag in `head` names (HTML's prescan, simplified: `charset=` inside
/// a `<meta ...>` tag, quoted or not).
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let mut rest = &tag[c + 7..];
            while let [b' ' | b'\t' | b'\n' | b'\r', r @ ..] = rest {
                rest = r;
            }
            if let [b'=', r @ ..] = rest {
                rest = r;
                while let [b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'', r @ ..] = rest {
                    rest = r;
                }
                let len = rest
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b' ' | b';' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(enc) = Encoding::for_label(&rest[..len]) {
                    // HTML: a meta naming UTF-16 means UTF-8 (the bytes were read as ASCII).
                    return Some(
                        if enc == encoding_rs::UTF_16BE || enc == encoding_rs::UTF_16LE {
                            UTF_8
                        } else {
                            enc
                        },
                    );
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert_eq!(html_encoding(b"<p>plain"), UTF_8);
        assert_eq!(
            html_encoding(b"<html><head><meta charset=\"windows-1252\"><p>caf\xe9"),
            encoding_rs::WINDOWS_1252
        );
        assert_eq!(
            html_encoding(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">"
            ),
            encoding_rs::WINDOWS_1252
        );
        assert_eq!(html_encoding(b"<meta charset=utf-16>"), UTF_8);
        assert_eq!(html_encoding(b"\xef\xbb\xbf<p>"), UTF_8);
        assert_eq!(html_encoding(b"\xff\xfe<\x00"), encoding_rs::UTF_16LE);
        assert_eq!(
            css_encoding(b"@charset \"iso-8859-1\"; a{}"),
            encoding_rs::WINDOWS_1252
        );
        assert_eq!(css_encoding(b"a{}"), UTF_8);
    }
}
