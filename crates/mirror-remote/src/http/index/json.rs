//! JSON listings: nginx's `autoindex_format json` and Caddy's browse answer to
//! `Accept: application/json`.
//!
//! nginx: `[{ "name":"a", "type":"file"|"directory"|"other", "mtime":"<RFC 1123>",
//! "size":12 }]` (no size for directories). Caddy: `[{"name":"a/", "size":4096,
//! "url":"./a/", "mod_time":"<RFC 3339>", "mode":..., "is_dir":true, "is_symlink":false}]`.
//! Both give exact sizes and second-exact times. Items are read one by one from a generic
//! JSON value, so one odd item costs that item, not the page.

use serde_json::Value;

use super::fields::{self, Stamp};
use super::link::{Child, Dir, Link, clip};
use super::{Draft, IndexFormat};

/// Reads a JSON listing. Returns the format it looks like (Caddy if any item has Caddy's
/// fields, else nginx), the entries and the problems.
pub(crate) fn parse(page: &str, dir: &Dir) -> (IndexFormat, Vec<Draft>, Vec<String>) {
    let mut problems = Vec::new();
    let items = match serde_json::from_str::<Value>(page.trim_start_matches('\u{feff}')) {
        Ok(Value::Array(items)) => items,
        // Caddy answers an empty directory with `null` in some versions.
        Ok(Value::Null) => Vec::new(),
        Ok(_) => {
            problems.push("JSON listing is not an array".to_owned());
            Vec::new()
        }
        Err(e) => {
            problems.push(format!("JSON listing does not parse: {e}"));
            Vec::new()
        }
    };
    let caddy = items.iter().any(|i| {
        i.get("is_dir").is_some() || i.get("mod_time").is_some() || i.get("url").is_some()
    });
    let mut drafts = Vec::with_capacity(items.len());
    for item in &items {
        let r = if caddy {
            caddy_item(item, dir)
        } else {
            nginx_item(item, dir)
        };
        match r {
            Ok(Some(d)) => drafts.push(d),
            Ok(None) => {}
            Err(why) => problems.push(why),
        }
    }
    let format = if caddy {
        IndexFormat::CaddyJson
    } else {
        IndexFormat::NginxJson
    };
    (format, drafts, problems)
}

fn nginx_item(item: &Value, dir: &Dir) -> Result<Option<Draft>, String> {
    let name = item
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("JSON item without a name: {}", clip(&item.to_string())))?;
    let is_dir = match item.get("type").and_then(Value::as_str) {
        Some("directory") => true,
        Some("file") => false,
        other => {
            return Err(format!(
                "`{}` has type {}: not a file or directory, skipped",
                clip(name),
                other.unwrap_or("(none)")
            ));
        }
    };
    let child = dir.child_named(name, is_dir)?;
    let stamp = item
        .get("mtime")
        .and_then(Value::as_str)
        .and_then(fields::rfc1123);
    Ok(Some(draft(child, item, stamp)))
}

fn caddy_item(item: &Value, dir: &Dir) -> Result<Option<Draft>, String> {
    let is_dir = item.get("is_dir").and_then(Value::as_bool);
    let child = match item.get("url").and_then(Value::as_str) {
        Some(url) => match dir.classify(url) {
            Link::Child(c) => c,
            Link::Ignored => return Ok(None),
            Link::Refused(why) => return Err(why),
        },
        None => {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("JSON item without a name: {}", clip(&item.to_string())))?;
            let is_dir = is_dir.unwrap_or(name.ends_with('/'));
            dir.child_named(name.strip_suffix('/').unwrap_or(name), is_dir)?
        }
    };
    if is_dir.is_some_and(|d| d != child.is_dir) {
        return Err(format!(
            "`{}`: `is_dir` disagrees with its URL, skipped",
            clip(&child.name)
        ));
    }
    let stamp = item
        .get("mod_time")
        .and_then(Value::as_str)
        .and_then(fields::rfc3339);
    Ok(Some(draft(child, item, stamp)))
}

fn draft(child: Child, item: &Value, stamp: Option<Stamp>) -> Draft {
    Draft {
        size: item
            .get("size")
            .and_then(Value::as_u64)
            .map(|bytes| fields::Size { bytes, exact: true }),
        child,
        stamp,
    }
}
