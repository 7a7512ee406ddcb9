//! `docs/API.md`, the guide users read, kept in step with the code: its role table is the
//! policy's own, and it describes every operation and setting there is.

use std::collections::BTreeSet;

use serde_json::Value;

const GUIDE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/API.md");
const README: &str = include_str!("../../README.md");
const SPEC: &str = include_str!("../../openapi/openapi.json");
const ROLES_BEGIN: &str = "<!-- roles:begin -->";
const ROLES_END: &str = "<!-- roles:end -->";
const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "DELETE", "PUT"];
/// Served by the binary but not operations of the API it describes.
const OUTSIDE_THE_SPEC: [&str; 2] = ["GET /openapi.json", "GET /docs"];

fn guide() -> String {
    std::fs::read_to_string(GUIDE).expect("docs/API.md")
}

/// `/articles/{slug}/revisions/{version}` → `/articles/{}/revisions/{}`: the guide may name
/// parameters as it likes.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// Every `METHOD /path` of the OpenAPI document, normalised.
fn documented_operations() -> BTreeSet<String> {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_ascii_uppercase();
            if METHODS.contains(&method.as_str()) {
                operations.insert(format!("{method} {}", normalise(path)));
            }
        }
    }
    operations
}

/// Every `` `METHOD /path` `` the guide names (query strings dropped), normalised.
fn named_operations(guide: &str) -> BTreeSet<String> {
    // Fenced blocks hold examples, not references, and their backticks would pair wrongly.
    let mut fenced = false;
    let prose: Vec<&str> = guide
        .lines()
        .filter(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect();
    let mut named = BTreeSet::new();
    for code in prose.join("\n").split('`').skip(1).step_by(2) {
        let Some((method, path)) = code.split_once(' ') else {
            continue;
        };
        if METHODS.contains(&method) && path.starts_with('/') {
            let path = path.split(['?', ' ']).next().unwrap_or(path);
            named.insert(format!("{method} {}", normalise(path)));
        }
    }
    named
}

/// Checks that the guide holds `generated` between `begin` and `end`; with
/// `NEWSDESK_UPDATE_DOCS` set, writes it there instead.
fn generated_section(begin: &str, end: &str, generated: &str, source: &str) {
    let guide = guide();
    let (before, rest) = guide
        .split_once(begin)
        .unwrap_or_else(|| panic!("docs/API.md lost its {begin} marker"));
    let (table, after) = rest
        .split_once(end)
        .unwrap_or_else(|| panic!("docs/API.md lost its {end} marker"));
    if table.trim() == generated.trim() {
        return;
    }
    if std::env::var_os("NEWSDESK_UPDATE_DOCS").is_some() {
        std::fs::write(GUIDE, format!("{before}{begin}\n{generated}{end}{after}")).unwrap();
        return;
    }
    panic!(
        "The table after {begin} in docs/API.md is not the one {source} defines. \
         Regenerate it with:\n\n    NEWSDESK_UPDATE_DOCS=1 cargo test --test api docs\n\n\
         In the guide:\n{}\nFrom the code:\n{generated}",
        table.trim()
    );
}

#[test]
fn the_role_table_is_the_one_the_policy_enforces() {
    generated_section(
        ROLES_BEGIN,
        ROLES_END,
        &newsdesk::auth::policy::permission_table_markdown(),
        "src/auth/policy.rs",
    );
}

#[test]
fn the_error_codes_are_the_catalogue_s() {
    generated_section(
        "<!-- error-codes:begin -->",
        "<!-- error-codes:end -->",
        &newsdesk::i18n::code_tables(),
        "the message catalogue (src/i18n.rs, locales/)",
    );
}

#[test]
fn the_guide_describes_every_operation_and_only_real_ones() {
    let guide = guide();
    let named = named_operations(&guide);
    let documented = documented_operations();
    let missing: Vec<&String> = documented.difference(&named).collect();
    assert!(
        missing.is_empty(),
        "docs/API.md does not describe these operations of openapi/openapi.json; name each as \
         `METHOD /path`: {missing:#?}"
    );
    let unknown: Vec<&String> = named
        .difference(&documented)
        .filter(|op| !OUTSIDE_THE_SPEC.contains(&op.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/API.md names operations the API does not have: {unknown:#?}"
    );
}

#[test]
fn the_guide_and_the_readme_list_every_setting() {
    use clap::CommandFactory;
    let guide = guide();
    let command = newsdesk::cli::Cli::command();
    let variables: Vec<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    assert!(variables.len() > 20, "{variables:?}");
    for variable in variables {
        let name = format!("`{variable}`");
        let listed = |text: &str| {
            text.lines()
                .any(|line| line.starts_with("| `") && line.contains(&name))
        };
        assert!(listed(&guide), "docs/API.md's settings table lacks {variable}");
        assert!(listed(README), "README.md's settings table lacks {variable}");
    }
}
