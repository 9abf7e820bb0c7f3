"""The house rules of the code, checked by parsing the source with ``ast`` (never by importing it).

* no import circle between modules through their module-level imports;
* no module takes another module's private ``_name`` (``from m import _x`` or ``m._x``); a name that
  crosses a module boundary is listed in the ``__all__`` of the module it comes from;
* no module over 500 lines, no function over 80 lines;
* at most 8 modules at the top of the package, the rest in packages named after the stages;
* the README's "How the code is laid out" names every package folder, and every test folder
  mirrors one.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sheet2video"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_TOP_MODULES = 8


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    exports: set[str] | None = None  # __all__, when the module has one
    top_imports: set[str] = field(default_factory=set)  # modules imported at module level


def module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def read_exports(tree: ast.Module) -> set[str] | None:
    names = None
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "__all__" and isinstance(node, (ast.Assign, ast.AugAssign)):
            names = (names or set()) | set(ast.literal_eval(node.value))
    return names


def load_modules() -> dict[str, Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name, is_package = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules[name] = Module(name, path, tree, is_package, read_exports(tree))
    return modules


MODULES = load_modules()


def target_of(imported: str) -> str | None:
    """The module of ours an import names (``a.b.c`` → ``a.b`` when ``c`` is a name in ``a.b``)."""
    while imported and imported not in MODULES:
        imported = imported.rpartition(".")[0]
    return imported or None


def imports_of(node: ast.AST, module: Module):
    """(module imported, names taken from it or None, alias → module) for one import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith("sheet2video"):
                yield alias.name, None, {alias.asname: alias.name} if alias.asname else {}
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            package = module.name if module.is_package else module.name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        if base.startswith("sheet2video"):
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:
                    yield submodule, None, {alias.asname or alias.name: submodule}
                else:
                    yield base, alias.name, {}


def module_level_statements(tree: ast.Module):
    """Statements run on import: the top level and the bodies of top-level if/try (not TYPE_CHECKING)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            pending[:0] = node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending[:0] = node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        else:
            yield node


for _module in MODULES.values():
    for _node in module_level_statements(_module.tree):
        for _imported, _name, _aliases in imports_of(_node, _module):
            _target = target_of(_imported)
            if _target and _target != _module.name:
                _module.top_imports.add(_target)


def test_no_import_circles():
    """Tarjan's strongly connected components over the module-level import graph."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for other in sorted(MODULES[name].top_imports):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in on_stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == name:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(MODULES):
        if name not in index:
            visit(name)
    assert circles == []


def boundary_problems(module: Module) -> list[str]:
    problems = []
    aliases: dict[str, str] = {}
    for node in ast.walk(module.tree):
        for imported, name, bound in imports_of(node, module):
            aliases.update(bound)
            target = target_of(imported)
            if name is None or target is None or target == module.name:
                continue
            where = f"{module.path.relative_to(ROOT)}:{node.lineno}"
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                problems.append(f"{where} takes the private {target}.{name}")
            elif not name.startswith("__"):
                exports = MODULES[target].exports
                if exports is None or name not in exports:
                    problems.append(f"{where} takes {target}.{name}, which is not in that module's __all__")
    for node in ast.walk(module.tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            problems.append(f"{module.path.relative_to(ROOT)}:{node.lineno} reaches into {aliases[node.value.id]}.{node.attr}")
    return problems


def test_only_public_names_cross_module_boundaries():
    problems = [p for module in MODULES.values() for p in boundary_problems(module)]
    assert problems == []


def test_exports_name_things_that_exist():
    problems = []
    for module in MODULES.values():
        if module.exports is None:
            continue
        defined = set()
        for node in module_level_statements(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        missing = module.exports - defined
        if missing:
            problems.append(f"{module.path.relative_to(ROOT)}: __all__ names {sorted(missing)}, not defined there")
    assert problems == []


def test_modules_and_functions_stay_small():
    problems = []
    for module in MODULES.values():
        lines = len(module.path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            problems.append(f"{module.path.relative_to(ROOT)}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - min([node.lineno] + [d.lineno for d in node.decorator_list]) + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append(f"{module.path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines (at most {MAX_FUNCTION_LINES})")
    assert problems == []


def test_the_top_of_the_package_holds_only_entry_points_and_shared_basics():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def package_folders() -> list[str]:
    return sorted(str(p.parent.relative_to(ROOT)) for p in PACKAGE.rglob("__init__.py"))


def test_the_readme_names_every_package_folder():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## How the code is laid out\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "README.md has no '## How the code is laid out' section"
    section = match.group(1)
    missing = [folder for folder in package_folders() if not re.search(rf"(?<![\w/]){re.escape(folder)}/(?![\w])", section)]
    assert missing == []


def test_each_test_folder_mirrors_a_package_folder():
    """tests/reliability is the one suite across the whole product (crashes, faults, hostile input)."""
    packages = {folder.removeprefix("sheet2video").strip("/") for folder in package_folders()}
    folders = {str(p.parent.relative_to(ROOT / "tests")) for p in (ROOT / "tests").rglob("test_*.py")} - {"."}
    assert sorted(folders - packages - {"reliability"}) == []


@pytest.mark.parametrize("source, problem", [
    ("from sheet2video.cli.common import _secret\n", "takes the private"),
    ("from sheet2video.cli import common\ncommon._secret()\n", "reaches into"),
    ("from sheet2video.cli.common import not_exported\n", "not in that module's __all__"),
])
def test_the_boundary_check_can_fail(source, problem):
    module = Module("sheet2video.probe_module", PACKAGE / "probe_module.py", ast.parse(source), False)
    assert any(problem in p for p in boundary_problems(module))
