#!/usr/bin/env python3
"""The import rule of oauth-client (ARCHITECTURE.md): no module of the runtime core names a
feature module, and the top-level modules import each other without a cycle.

Reads every `crate::<module>` path (in `use` items and in code, comments skipped) of each
top-level module of oauth-client/src, with its submodules counted as the module. A path
through the crate root (`crate::OAuthClient`) counts as an import of the module that defines
the item, found from lib.rs's `pub use`. Prints the graph's size; exits 1 on a violation."""

import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "oauth-client" / "src"
CORE = {
    "attempt", "basic_auth", "challenge", "client", "client_auth", "clock", "discovery", "dpop",
    "endpoint_url", "error", "form", "grants", "http_client", "metadata", "provider_error",
    "request", "response", "retry", "secret", "signing", "token", "transport", "declared",
    "__private",
}
FEATURES = {
    "authorize", "manager", "middleware", "oidc", "registration", "protected_resource", "extensions",
    "resource_access", "atproto", "workload",
}


def modules():
    for path in sorted(SRC.iterdir()):
        if path.suffix == ".rs" and path.stem != "lib":
            yield path.stem, [path] + sorted((SRC / path.stem).rglob("*.rs")) if (SRC / path.stem).is_dir() else [path]
        elif path.is_dir() and not (SRC / f"{path.name}.rs").exists():
            yield path.name, sorted(path.rglob("*.rs"))


def code(path):
    text = path.read_text()
    text = re.sub(r"//[^\n]*", "", text)  # comments and doc comments (their links are not imports)
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
    return text


def root_items():
    """Item name → defining module, from lib.rs's `pub use module::{...}` lines."""
    lib = code(SRC / "lib.rs")
    items = {}
    for module, names in re.findall(r"pub use (\w+)::\{?([^;]*?)\}?;", lib):
        if module in ("crate", "self", "super"):
            continue  # a re-export of a re-export (the prelude)
        for name in re.findall(r"\b([A-Za-z_]\w*)\b", names):
            items.setdefault(name, module)
    return items


def main():
    items = root_items()
    known = dict(modules())
    graph = {}
    for name, files in known.items():
        targets = set()
        for path in files:
            text = code(path)
            for first in re.findall(r"crate::(\w+)", text):
                targets.add(first if first in known else items.get(first, first))
            for group in re.findall(r"crate::\{([^}]*)\}", text):
                for first in re.findall(r"(?:^|,)\s*(\w+)", group):
                    targets.add(first if first in known else items.get(first, first))
        graph[name] = {target for target in targets if target in known and target != name}
    violations = [
        f"core module `{module}` imports feature module `{target}`"
        for module in sorted(CORE & graph.keys())
        for target in sorted(graph[module] & FEATURES)
    ]
    # Cycles: depth-first search for a back edge.
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                violations.append("import cycle: " + " -> ".join(cycle))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    edges = sum(len(targets) for targets in graph.values())
    core_edges = sum(len(graph[module]) for module in CORE & graph.keys())
    print(f"import rule: {len(graph)} modules, {edges} imports ({core_edges} from the core)")
    for violation in violations:
        print("  " + violation)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
