//! The module graph of `src/` has no cycles: layers point down. The graph is
//! read from the source (`crate::module` paths, `use crate::{a, b}` groups)
//! for every top-level module; a cycle fails with the modules on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs").to_string();
    (name != "main" && name != "lib").then_some(name)
}

/// Drops `//` comments (doc comments name modules without using them).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Modules named by `crate::x` paths and by `use crate::{x, y::z}` groups.
fn referenced(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            found.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn source_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Some(module) = top_module(&src, &path)
            {
                let code = code_of(&std::fs::read_to_string(&path).expect("read file"));
                let edges = graph.entry(module.clone()).or_default();
                edges.extend(referenced(&code).into_iter().filter(|m| *m != module));
            }
        }
    }
    // Only edges between modules of this crate (not `self`, `super`…).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|m| modules.contains(m));
    }
    graph
}

/// One cycle of the graph, if it has any (depth-first search).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_reader_sees_paths_and_groups() {
    let code = code_of(
        "use crate::{auth::CurrentUser, db::{self, DbConn}, web};\n\
         // crate::commented\n\
         let x = crate::models::user::User::find(conn);",
    );
    let names: Vec<String> = referenced(&code).into_iter().collect();
    assert_eq!(names, vec!["auth", "db", "models", "web"]);
}

#[test]
fn the_search_finds_a_cycle() {
    let mut graph = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    };
    edge(&mut graph, "handlers", "services");
    edge(&mut graph, "services", "models");
    assert_eq!(find_cycle(&graph), None);
    edge(&mut graph, "models", "handlers");
    assert_eq!(
        find_cycle(&graph),
        Some(vec![
            "handlers".to_string(),
            "services".into(),
            "models".into(),
            "handlers".into()
        ])
    );
}

#[test]
fn modules_import_without_cycles() {
    let graph = source_graph();
    assert!(graph.len() > 20, "read the modules: {:?}", graph.keys());
    assert!(graph["handlers"].contains("models"), "edges are read");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "an import cycle between top-level modules: {}\n(layers point down: move the shared piece below both)",
            cycle.join(" -> ")
        );
    }
}
