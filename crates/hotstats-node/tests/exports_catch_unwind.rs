//! No panic crosses into Node (design: "every export is catch_unwind"). This test lists every
//! export of the binding from its sources and checks each one:
//! - every `#[napi(...)]` function, method, constructor, factory and getter says `catch_unwind`
//!   (issue 19: the window and ingest getters did not);
//! - the module-exports hook wraps its body in `catch_unwind(`;
//! - every raw Node-API callback (`extern "C" fn`, fast.rs) goes through a helper that wraps the
//!   kernel in `catch_unwind(`;
//! - every AsyncTask `compute` wraps its body in `catch_unwind(`.
//!
//! `#[napi]` on a struct or an impl block and `#[napi(object)]` structs are not callable and are
//! skipped. The scan is lexical (comments and string literals are skipped when matching braces).

use std::fs;
use std::path::Path;

/// `src` with comments blanked out and string/char literal contents replaced by spaces, so
/// braces and attributes can be matched by position (same length and line breaks as `src`).
fn code_only(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = src[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j.min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            blank(&mut out, i + 1, i + 2);
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            let end = b[i + 2..]
                .iter()
                .position(|&c| c == b'\'')
                .map_or(b.len(), |p| i + 2 + p);
            blank(&mut out, i + 1, end);
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The text from `start` to the end of the first balanced `{ ... }` block after it.
fn item_at(code: &[u8], start: usize) -> &str {
    let open = start
        + code[start..]
            .iter()
            .position(|&c| c == b'{')
            .expect("item has a body");
    let semi = code[start..open].iter().position(|&c| c == b';');
    if let Some(p) = semi {
        return std::str::from_utf8(&code[start..start + p]).unwrap();
    }
    let mut depth = 0;
    for (k, &c) in code[open..].iter().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return std::str::from_utf8(&code[start..open + k + 1]).unwrap();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces");
}

/// The closing `]` of the attribute starting at `at` (`#[`).
fn attr_end(code: &[u8], at: usize) -> usize {
    let mut depth = 0;
    for (k, &c) in code[at..].iter().enumerate() {
        match c {
            b'[' | b'(' => depth += 1,
            b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    return at + k;
                }
            }
            _ => {}
        }
    }
    panic!("unterminated attribute");
}

#[derive(Default)]
struct Report {
    checked: Vec<String>,
    missing: Vec<String>,
}

fn scan(file: &Path, report: &mut Report) {
    let src = fs::read_to_string(file).expect("readable source");
    let code = code_only(&src);
    let text = std::str::from_utf8(&code).unwrap();
    let name_of = |item: &str| -> String {
        let head: String = item
            .split('{')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "{}: {}",
            file.file_name().unwrap().to_string_lossy(),
            head.chars().take(90).collect::<String>()
        )
    };
    // #[napi ...] items.
    let mut from = 0;
    while let Some(p) = text[from..].find("#[napi") {
        let at = from + p;
        let end = attr_end(&code, at + 1);
        let attr = &text[at..=end];
        // The item: skip further attributes and whitespace.
        let mut k = end + 1;
        loop {
            let rest = text[k..].trim_start();
            k = text.len() - rest.len();
            if rest.starts_with("#[") {
                k = attr_end(&code, k + 1) + 1;
            } else {
                break;
            }
        }
        let item = item_at(&code, k);
        let head = item.split('{').next().unwrap_or("");
        let is_fn = head.contains("fn ");
        if is_fn {
            let ok = if attr.contains("module_exports") {
                item.contains("catch_unwind(")
            } else {
                attr.contains("catch_unwind")
            };
            let name = name_of(item);
            if ok {
                report.checked.push(name);
            } else {
                report.missing.push(format!("{name}  ({attr})"));
            }
        }
        from = end;
    }
    // Raw Node-API callbacks: through a helper that catches unwinds.
    let mut from = 0;
    while let Some(p) = text[from..].find("extern \"") {
        let at = from + p;
        let item = item_at(&code, at);
        let name = name_of(item);
        let helper_ok = item.contains("unary(") && text.contains("fn unary") && {
            let u = text.find("fn unary").unwrap();
            item_at(&code, u).contains("catch_unwind(")
        };
        if item.contains("catch_unwind(") || helper_ok {
            report.checked.push(name);
        } else {
            report.missing.push(name);
        }
        from = at + item.len();
    }
    // AsyncTask compute bodies.
    let mut from = 0;
    while let Some(p) = text[from..].find("impl Task for") {
        let at = from + p;
        let item = item_at(&code, at);
        let compute = item.find("fn compute").map(|c| item_at(item.as_bytes(), c));
        let name = name_of(item);
        if compute.is_some_and(|c| c.contains("catch_unwind(")) {
            report.checked.push(format!("{name} compute"));
        } else {
            report.missing.push(format!("{name} compute"));
        }
        from = at + item.len();
    }
}

#[test]
fn every_export_catches_panics() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut report = Report::default();
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    for f in &files {
        scan(f, &mut report);
    }
    for c in &report.checked {
        println!("ok  {c}");
    }
    assert!(
        report.missing.is_empty(),
        "exports without catch_unwind:\n{}",
        report.missing.join("\n")
    );
    // Sanity: the scan sees the binding (about a hundred exports), getters included.
    assert!(
        report.checked.len() > 80,
        "only {} exports found",
        report.checked.len()
    );
    assert!(report.checked.iter().any(|c| c.contains("fn watermark")));
    assert!(report.checked.iter().any(|c| c.contains("fn sum_cb")));
    // Every binding file (one per capability) was scanned and its exports found.
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let src = fs::read_to_string(f).unwrap();
        if src.contains("#[napi") || src.contains("extern \"C\" fn") {
            assert!(
                report
                    .checked
                    .iter()
                    .any(|c| c.starts_with(&format!("{name}: "))),
                "no export checked in {name}"
            );
        }
    }
    for (file, export) in [
        ("kernels.rs", "fn summarize_async"),
        ("hll.rs", "fn hll_add_packed"),
        ("moments.rs", "fn moments_merge"),
        ("quantile.rs", "fn deserialize"),
        ("lib.rs", "fn panic_on_pool_for_test"),
    ] {
        assert!(
            report
                .checked
                .iter()
                .any(|c| c.starts_with(&format!("{file}: ")) && c.contains(export)),
            "{file}: {export} not checked"
        );
    }
}

#[test]
fn the_scanner_flags_a_getter_without_catch_unwind() {
    let dir = std::env::temp_dir().join(format!("hotstats-scan-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let f = dir.join("probe.rs");
    fs::write(
        &f,
        "#[napi]\nimpl X {\n    /// doc with { brace\n    #[napi(getter)]\n    pub fn late(&self) -> f64 { \"}\"; 1.0 }\n    #[napi(catch_unwind)]\n    pub fn ok(&self) {}\n}\n",
    )
    .unwrap();
    let mut report = Report::default();
    scan(&f, &mut report);
    fs::remove_dir_all(&dir).ok();
    assert_eq!(report.missing.len(), 1, "{:?}", report.missing);
    assert!(report.missing[0].contains("fn late"));
    assert_eq!(report.checked.len(), 1);
}
