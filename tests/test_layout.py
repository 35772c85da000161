"""The grader's layout stays readable: the imports between its modules form no cycle (neither
between modules nor between its folders), no module imports another's private names, and
production code never reaches into tests/. Read from the source, so a new import that breaks
one of these fails here, naming it."""
import ast
from pathlib import Path

from autograder import course

PACKAGE = course.REPO / "autograder"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts or path.name == "nbgrader_config.py":
            continue
        parts = path.relative_to(course.REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import of the module `name`, relative
    ones resolved; `from pkg import mod` counts as importing `pkg.mod`."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                base = ".".join(up[:len(up) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                out.append((full, []) if full in modules else (base, [a.name]))
    return out


def _graph():
    modules = _modules()
    graph = {name: set() for name in modules}
    private = []
    for name, path in modules.items():
        for target, names in _imports(name, path, modules):
            if target in modules and target != name:
                graph[name].add(target)
                private += [(name, target, n) for n in names
                            if n.startswith("_") and not n.startswith("__")]
    return graph, private


def _cycle(graph) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else "autograder (top level)"


def test_no_import_cycle_between_modules():
    graph, _ = _graph()
    # A package's __init__ imports nothing of its own, so it stands for its folder only.
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_between_folders():
    graph, _ = _graph()
    folders: dict = {}
    for module, targets in graph.items():
        for target in targets:
            a, b = _folder(module), _folder(target)
            if a != b and b != "autograder (top level)" and a != "autograder (top level)":
                folders.setdefault(a, set()).add(b)
    cycle = _cycle(folders)
    assert cycle is None, "folders import each other: " + " -> ".join(cycle)


def test_no_module_imports_anothers_private_names():
    _, private = _graph()
    assert not private, "private names imported across modules: " + ", ".join(
        f"{a} takes {n} from {b}" for a, b, n in private)


def test_production_code_never_reaches_into_tests():
    found = [(name, target) for name, path in _modules().items()
             for target, _ in _imports(name, path, _modules())
             if target == "tests" or target.startswith("tests.")]
    found += [(name, "tests/") for name, path in _modules().items()
              if '"tests"' in path.read_text() or "'tests'" in path.read_text()]
    assert not found, found


def test_the_kernels_files_import_only_each_other():
    """What a sandboxed kernel sees of the repository (sandbox.KERNEL_FILES) must import nothing
    else of it: the kernel could not load it."""
    from autograder.isolation import sandbox
    seen = {".".join(Path(f).with_suffix("").parts[:-1] if f.endswith("__init__.py")
                     else Path(f).with_suffix("").parts) for f in sandbox.KERNEL_FILES}
    modules = _modules()
    for name in seen:
        for target, _ in _imports(name, modules[name], modules):
            if target.startswith("autograder"):
                assert target in seen, f"{name} imports {target}, which a kernel cannot see"


def test_the_graph_is_what_this_test_reads():
    """The reader above is not blind: it sees the imports it must (a test that cannot fail is
    worse than none)."""
    graph, _ = _graph()
    assert "autograder.run.jobs" in graph["autograder.run.command"]
    assert "autograder.trusted.wire" in graph["autograder.trusted.kernel_agent"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
