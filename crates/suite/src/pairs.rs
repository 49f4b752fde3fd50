//! Which stacks a run compares: pairs of one Node stack and one Python stack, written
//! `node:python`. `--pairs express:fastapi,node-http:starlette` names them, `--stacks all` is
//! every Node stack against every Python stack, and a profile has its own default
//! ([`crate::Profile::pairs`]). The first pair is the run's main one (every evidence); the others
//! are measured only on the units of the claims' primary evidences. Bad lists are refused here,
//! each error naming the item and the fix.

use claimbench_model::stack::Runtime;

/// The popular pair: the one `quick` compares, and the first of every default list.
pub const POPULAR: [&str; 1] = ["express:fastapi"];

/// The four pairs of `standard` and `nightly`: the popular pair, the runtime floor, the full
/// frameworks, and the fast ones.
pub const FOUR: [&str; 4] = ["express:fastapi", "node-http:starlette", "nestjs:django", "fastify:flask"];

/// The runtime-floor pair: each runtime without a framework (bare `node:http`, bare Starlette).
pub const RUNTIME_FLOOR: &str = "node-http:starlette";

/// One Node stack against one Python stack, by registry name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub node: String,
    pub python: String,
}

impl Pair {
    /// `node:python`.
    pub fn label(&self) -> String {
        claimbench_model::run::pair_label(&self.node, &self.python)
    }
}

/// Why a pair list cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairError {
    #[error("no pair given: name at least one, e.g. --pairs express:fastapi")]
    Empty,
    #[error("`{item}` is not a pair: write NODE:PYTHON, one Node stack and one Python stack joined by a colon, e.g. express:fastapi")]
    Malformed { item: String },
    #[error("`{name}` (in `{item}`) is not a stack of fixtures/stacks.toml; the stacks are: {known}")]
    UnknownStack { item: String, name: String, known: String },
    #[error(
        "`{item}` pairs two {runtime} stacks: a pair is one Node stack and one Python stack, e.g. express:fastapi"
    )]
    SameRuntime { item: String, runtime: &'static str },
    #[error("`{item}` names the Python stack first: write the Node stack first, `{swapped}`")]
    Swapped { item: String, swapped: String },
    #[error("`{item}` is given twice: name each pair once")]
    Duplicate { item: String },
}

/// The pairs `items` name (each `node:python`), checked against the registry: `runtime_of(name)`
/// is a registry stack's runtime, `None` for an unknown name; `known` lists the registry's names
/// for the message.
pub fn parse_pairs(
    items: &[String],
    runtime_of: &dyn Fn(&str) -> Option<Runtime>,
    known: &[&str],
) -> Result<Vec<Pair>, PairError> {
    let items: Vec<&str> = items.iter().map(|i| i.trim()).collect();
    if items.iter().all(|i| i.is_empty()) {
        return Err(PairError::Empty);
    }
    let mut pairs: Vec<Pair> = Vec::new();
    for item in items {
        let malformed = || PairError::Malformed { item: item.to_string() };
        let (a, b) = item.split_once(':').ok_or_else(malformed)?;
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() || b.is_empty() || b.contains(':') {
            return Err(malformed());
        }
        let runtime = |name: &str| {
            runtime_of(name).ok_or_else(|| PairError::UnknownStack {
                item: item.to_string(),
                name: name.to_string(),
                known: known.join(", "),
            })
        };
        let pair = match (runtime(a)?, runtime(b)?) {
            (Runtime::Node, Runtime::Python) => Pair { node: a.into(), python: b.into() },
            (Runtime::Python, Runtime::Node) => {
                return Err(PairError::Swapped { item: item.into(), swapped: format!("{b}:{a}") })
            }
            (same, _) => return Err(PairError::SameRuntime { item: item.into(), runtime: runtime_word(same) }),
        };
        if pairs.contains(&pair) {
            return Err(PairError::Duplicate { item: item.into() });
        }
        pairs.push(pair);
    }
    Ok(pairs)
}

/// Every Node stack against every Python stack of `stacks` (registry order), the popular pair
/// first when both of its stacks are there.
pub fn all_pairs(stacks: &[(String, Runtime)]) -> Vec<Pair> {
    let of = |runtime: Runtime| stacks.iter().filter(move |(_, r)| *r == runtime).map(|(n, _)| n.clone());
    let mut pairs: Vec<Pair> = of(Runtime::Node)
        .flat_map(|node| of(Runtime::Python).map(move |python| Pair { node: node.clone(), python }))
        .collect();
    if let Some(i) = pairs.iter().position(|p| p.label() == POPULAR[0]) {
        let popular = pairs.remove(i);
        pairs.insert(0, popular);
    }
    pairs
}

fn runtime_word(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Node => "Node",
        Runtime::Python => "Python",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [(&str, Runtime); 4] = [
        ("express", Runtime::Node),
        ("node-http", Runtime::Node),
        ("fastapi", Runtime::Python),
        ("starlette", Runtime::Python),
    ];

    fn parse(list: &str) -> Result<Vec<Pair>, PairError> {
        let items: Vec<String> = list.split(',').map(String::from).collect();
        let runtime_of = |name: &str| KNOWN.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
        parse_pairs(&items, &runtime_of, &KNOWN.map(|(n, _)| n))
    }

    #[test]
    fn a_list_of_node_python_pairs_reads_in_order() {
        let pairs = parse("express:fastapi, node-http:starlette").unwrap();
        let labels: Vec<String> = pairs.iter().map(Pair::label).collect();
        assert_eq!(labels, ["express:fastapi", "node-http:starlette"]);
    }

    #[test]
    fn each_bad_pair_list_is_refused_with_its_own_reason() {
        assert_eq!(parse(""), Err(PairError::Empty));
        for bad in ["express", "express:", ":fastapi", "express:fastapi:x", "express-fastapi"] {
            assert!(matches!(parse(bad), Err(PairError::Malformed { .. })), "{bad}");
        }
        assert!(matches!(parse("express:django2"), Err(PairError::UnknownStack { name, .. }) if name == "django2"));
        assert!(matches!(parse("express:node-http"), Err(PairError::SameRuntime { runtime: "Node", .. })));
        assert!(matches!(parse("fastapi:starlette"), Err(PairError::SameRuntime { runtime: "Python", .. })));
        assert_eq!(
            parse("fastapi:express"),
            Err(PairError::Swapped { item: "fastapi:express".into(), swapped: "express:fastapi".into() })
        );
        assert!(matches!(parse("express:fastapi,express:fastapi"), Err(PairError::Duplicate { .. })));
    }

    #[test]
    fn all_pairs_puts_the_popular_pair_first_and_pairs_every_node_stack_with_every_python_stack() {
        let stacks: Vec<(String, Runtime)> = [
            ("node-http", Runtime::Node),
            ("starlette", Runtime::Python),
            ("express", Runtime::Node),
            ("fastapi", Runtime::Python),
        ]
        .map(|(n, r)| (n.to_string(), r))
        .to_vec();
        let labels: Vec<String> = all_pairs(&stacks).iter().map(Pair::label).collect();
        assert_eq!(labels, ["express:fastapi", "node-http:starlette", "node-http:fastapi", "express:starlette"]);
    }
}
