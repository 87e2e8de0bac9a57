"""The library's layout: no import cycle, modules short enough to read, the layout table current.

nnlib is course material, so its structure is tested like its behaviour:

* no two modules of ``nnlib`` import each other, directly or through others
  (an import anywhere in a module counts: at the top, inside a function, or in
  a ``try`` block; only ``if TYPE_CHECKING:`` blocks and a module's PEP 562
  ``__getattr__``, which exists to load a name lazily, are left out);
* no module is longer than :data:`MAX_LINES` lines unless its docstring says why
  splitting it would scatter one idea (a paragraph starting ``Why one module:``);
* every module appears in CONTRIBUTING.md's layout table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "nnlib"

#: The most lines a module may have without saying why it is one module.
MAX_LINES = 400

#: Modules that are still longer than MAX_LINES and are to be split next, with their
#: length when this list was written: they may shrink but not grow, and a module that
#: drops to MAX_LINES should leave the list.
KNOWN_LONG = {
    "nnlib.exercises._checks": 407,
    "nnlib.exercises.backpropagation": 474,
    "nnlib.exercises.case_studies": 487,
    "nnlib.exercises.chain_rule": 507,
    "nnlib.exercises.entropy": 412,
    "nnlib.exercises.gradient_descent": 484,
    "nnlib.exercises.precision": 401,
    "nnlib.exercises.speed": 508,
    "nnlib.jax_backend": 411,
    "nnlib.layers": 459,
    "nnlib.metrics": 477,
    "nnlib.precision": 634,
    "nnlib.train": 449,
    "nnlib.widgets.precision": 478,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported_modules(node: ast.AST, importer: str, is_package: bool) -> set[str]:
    """Modules of nnlib that the import statement ``node`` in module ``importer`` loads."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        found.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = importer.split(".") if is_package else importer.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        found.add(prefix)
        found.update(f"{prefix}.{alias.name}" for alias in node.names)  # `from . import x`
    return {name for name in found if name in MODULES}


def imports_of(name: str) -> set[str]:
    """The nnlib modules that module ``name`` imports (see the module docstring)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    result: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue
            if isinstance(child, ast.FunctionDef) and child.name == "__getattr__":
                if node is tree:  # a module-level PEP 562 hook: a lazy re-export
                    continue
            result.update(_imported_modules(child, name, path.name == "__init__.py"))
            visit(child)

    visit(tree)
    # Importing a submodule runs its parent packages first; that is not a dependency
    # of the submodule on its parent's other contents, so parents are left out.
    return {imp for imp in result if imp != name and not name.startswith(imp + ".")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_nnlib_has_no_import_cycle() -> None:
    graph = {name: imports_of(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, (
        "nnlib has an import cycle: " + " -> ".join(cycle or []) + ". Move what both modules "
        "need into a module that both can import."
    )


def test_cycle_finder_finds_a_cycle_and_the_walker_sees_relative_imports() -> None:
    # The test above can fail: a graph with a cycle is reported ...
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    # ... and relative imports, including `from . import x` and imports inside
    # functions, are resolved to the modules they load.
    assert "nnlib.backend" in imports_of("nnlib.train") or "nnlib.backend" in set().union(
        *(imports_of(name) for name in MODULES if name.startswith("nnlib.layers"))
    )
    assert "nnlib.data.validation" in imports_of("nnlib.data.toy")
    assert "nnlib.autodiff" in imports_of("nnlib.graph_drawing")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_short_or_says_why_it_is_one_module(name: str) -> None:
    path = MODULES[name]
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    if name in KNOWN_LONG:
        assert n_lines <= KNOWN_LONG[name], (
            f"{name} is waiting to be split and must not grow: {n_lines} lines, listed at "
            f"{KNOWN_LONG[name]}. Split it, or move code out of it."
        )
        return
    if n_lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "Why one module:" in docstring, (
        f"{path.relative_to(REPO_ROOT)} has {n_lines} lines, more than {MAX_LINES}. Split it "
        "by concept, or say in its docstring (a paragraph starting 'Why one module:') why "
        "splitting it would scatter one idea."
    )


def test_contributing_layout_table_lists_every_module() -> None:
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    table = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = []
    for name, path in MODULES.items():
        rel = path.relative_to(REPO_ROOT).as_posix()
        folder = path.parent.relative_to(REPO_ROOT).as_posix() + "/"
        if path.name == "__init__.py" and name != "nnlib":
            rel = folder
        if name == "nnlib":
            continue
        if f"`{rel}`" not in table and f"`{folder}`" not in table:
            missing.append(rel)
    assert not missing, (
        f"CONTRIBUTING.md's layout table does not mention {missing}: add a row for each "
        "(or for its package folder)."
    )
