"""The import graph of hub/ and rpc_client/, read from the source (ast; nothing is imported).

Fails on an import cycle among the project's modules and on the layer rules of the design
("Layers"):
- `rpc_client` imports nothing from `hub` (a strategy installs and imports only the client);
- `hub.sim` imports nothing else from `hub` (it is a broker; `rpc_client` is allowed);
- the hub core (`hub.core`, and the risk stage `hub.risk`) imports neither the CLI (`hub.cli`),
  the monitor (`hub.monitor`) nor a runner (`rpc_client.runner`, `hub.runner`): those are
  clients and front ends of it;
- the xtquant vocabulary (`rpc_client.xt`) is a leaf, and only `rpc_client.protocol` encodes the
  hub's wire (msgpack; `hub.sim.wire` is the simulator's own broker wire).

What counts as an edge: every `import` / `from ... import` in a module, at module level or
inside a function (a lazy import still ties the two modules), except those under
`if TYPE_CHECKING:`, which never run (for the layer rules those count too: a core module
must not even name a front end's types). `from pkg import name` is an edge to `pkg.name` when
that is a module, else to `pkg`. A package's `__init__` re-exporting its own submodules is
not a cycle with them (Python runs `__init__` first; nothing waits on the other half).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "rpc_client")

#: Cycles known to exist when this test was written, each with who removes it. An entry that
#: no longer occurs fails the test too, so the list only shrinks. (Empty: none left.)
ALLOWED_CYCLES: list[frozenset[str]] = []  # the hub.sim cycle went with issue 10 part 4


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(runtime edges, type-only edges) of one module to other project modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    runtime: set[str] = set()
    typing_only: set[str] = set()

    def target(mod: str) -> str | None:
        while mod and mod not in modules:
            mod = mod.rpartition(".")[0]
        return mod or None

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        found: list[str] = []
        if isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_pkg else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
        for mod in found:
            t = target(mod)
            if t is not None and t != name:
                (typing_only if type_only else runtime).add(t)
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return runtime, typing_only - runtime


@functools.lru_cache(maxsize=1)
def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    runtime, all_edges = {}, {}
    for name, path in modules.items():
        rt, ty = _imports(name, path, modules)
        runtime[name] = rt
        all_edges[name] = rt | ty
    return runtime, all_edges


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan), minus package re-exports."""
    def is_reexport(a: str, b: str) -> bool:
        return b.startswith(a + ".") or a.startswith(b + ".")

    edges = {a: {b for b in bs if not is_reexport(a, b)} for a, bs in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def test_the_graph_is_read_from_the_source():
    runtime, all_edges = _graph()
    # known edges, so a parser that sees nothing cannot pass the tests below
    assert "hub.core.methods" in runtime["hub.core.server"]
    assert "rpc_client.protocol" in runtime["hub.core.server"]
    assert "hub.core.context" in all_edges["hub.core.halts"] - runtime["hub.core.halts"]  # type-only
    assert len(runtime) > 80


def test_no_import_cycles_among_the_project_modules():
    runtime, _ = _graph()
    found = _cycles(runtime)
    unexpected = [sorted(c) for c in found if c not in ALLOWED_CYCLES]
    gone = [sorted(c) for c in ALLOWED_CYCLES if c not in found]
    assert not unexpected, f"import cycles: {unexpected}"
    assert not gone, f"allowed cycles that no longer exist (remove them from ALLOWED_CYCLES): {gone}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    assert _cycles({"p": {"p.x"}, "p.x": {"p"}}) == []  # a package re-exporting its submodule


def _violations(all_edges: dict[str, set[str]], source: str, forbidden) -> list[str]:
    return sorted(f"{a} -> {b}" for a, bs in all_edges.items() if a == source or a.startswith(source + ".")
                  for b in bs if forbidden(b))


def test_rpc_client_imports_nothing_from_hub():
    _, all_edges = _graph()
    assert _violations(all_edges, "rpc_client", lambda m: m == "hub" or m.startswith("hub.")) == []


def test_hub_sim_imports_nothing_else_from_hub():
    _, all_edges = _graph()
    bad = _violations(all_edges, "hub.sim", lambda m: (m == "hub" or m.startswith("hub."))
                      and not (m == "hub.sim" or m.startswith("hub.sim.")))
    assert bad == []


@pytest.mark.parametrize("core", ["hub.core", "hub.risk"])  # DESIGN's core: loop, book, journal, routing, risk
def test_the_hub_core_imports_no_front_end(core):
    _, all_edges = _graph()
    front = ("hub.cli", "hub.monitor", "hub.runner", "rpc_client.runner")
    assert any(a.startswith(core + ".") for a in all_edges), f"no modules found under {core}"
    bad = _violations(all_edges, core, lambda m: any(m == f or m.startswith(f + ".") for f in front))
    assert bad == []


def test_the_xtquant_vocabulary_is_a_leaf():
    """rpc_client.xt holds the vocabulary everything else imports; it imports no project module."""
    runtime, all_edges = _graph()
    assert all_edges["rpc_client.xt"] == set()
    users = {a for a, bs in runtime.items() if "rpc_client.xt" in bs}
    assert {"rpc_client.protocol", "hub.core.book", "hub.monitor.labels"} <= users, users


def test_one_module_encodes_the_wire_protocol():
    """Only rpc_client.protocol packs and unpacks hub frames (msgpack); hub.sim.wire is the
    simulator's own broker wire, a separate protocol between the hub and a `hub sim` process."""
    importers = sorted(name for name, path in _modules().items()
                       if any(isinstance(node, (ast.Import, ast.ImportFrom))
                              and any((alias.name if isinstance(node, ast.Import) else (node.module or "")) == "msgpack"
                                      for alias in node.names)
                              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
    assert importers == ["hub.sim.wire", "rpc_client.protocol"]
