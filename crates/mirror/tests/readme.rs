//! Keeps the README's packages-file reference in step with the keyword table the parser uses.
//! Run with `UPDATE_README=1` to rewrite the section after changing a keyword.

use mirror_config::{KEYWORDS, Status};

const START: &str = "<!-- keywords:start -->\n";
const END: &str = "<!-- keywords:end -->";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn keyword_table() -> String {
    let mut t = String::from(
        "### Packages-file keywords\n\n\
         Every keyword mirror.pl knew is accepted, with mirror.pl's default; new keywords are \
         marked *new*. Status: *implemented*, *planned* (read and validated now, used once the \
         named part lands), *ignored* (accepted, with the reason) or *refused*.\n\n\
         | keyword | default | meaning | status |\n|---|---|---|---|\n",
    );
    for k in KEYWORDS {
        let default = if k.default.is_empty() {
            String::new()
        } else {
            format!("`{}`", k.default.replace('`', "'"))
        };
        let status = match k.status {
            Status::Implemented => "implemented".to_owned(),
            Status::Ignored(why) => format!("ignored: {why}"),
            Status::Planned(part) => format!("planned: {part}"),
            Status::Refused(why) => format!("refused: {why}"),
        };
        t.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.name,
            cell(&default),
            cell(k.doc),
            cell(&status)
        ));
    }
    t
}

#[test]
fn readme_keyword_table_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme.find(START).expect("keywords:start marker") + START.len();
    let end = readme.find(END).expect("keywords:end marker");
    let wanted = keyword_table();
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], wanted, &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        readme[start..end],
        wanted,
        "README keyword table is stale: run `UPDATE_README=1 cargo test -p mirror --test readme`"
    );
}
