"""What a template reads, found in its source: the columns it names in row accessor calls
(``row.text("titles")``, ``g.number("duration")`` …) and whether its output depends on nothing
else (then the same cells always render the same text: ``render_memo``).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, meta, nodes

__all__ = ["Reads", "scan"]

# deterministic helpers a template may use without depending on anything but its inputs
_PURE_GLOBALS = frozenset({"range", "dict", "namespace", "true", "false", "none", "True", "False", "None"})
_RANDOM_FILTERS = frozenset({"random", "shuffle"})


@dataclass(frozen=True)
class Reads:
    columns: frozenset[str]   # lower-cased names given to accessors as literals
    media_groups: bool        # calls media_groups(): reads every media:<Group> column
    dynamic: bool             # some accessor gets a computed name: the columns are not all known
    free: frozenset[str]      # variables used before (or without) being set in the template (globals aside)
    closed: bool              # `row` only in accessor calls with literal names; no include/import, randomness or other global

    def pure(self, context_names) -> bool:
        """Whether, rendered with a context holding ``context_names``, the output depends only on
        ``row``'s cells. A free name the context lacks is one the template sets itself on every
        path (Jinja's analysis counts a variable set in both branches of an if as free) or an
        error (StrictUndefined) either way."""
        return self.closed and self.free.isdisjoint(set(context_names) - {"row"} - _PURE_GLOBALS)


def scan(env: Environment, source: str, accessors: frozenset[str]) -> Reads:
    tree = env.parse(source)
    columns: set[str] = set()
    media = dynamic = False
    for call in tree.find_all(nodes.Call):
        if not isinstance(call.node, nodes.Getattr) or call.node.attr not in accessors:
            continue
        if call.node.attr == "media_groups":
            media = True
        elif call.args and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str):
            columns.add(call.args[0].value.lower())
        else:
            dynamic = True
    # `row` used any other way (row.sheet_row, row passed on, a method kept for later) reads more than the cells named
    row_loads = sum(1 for n in tree.find_all(nodes.Name) if n.name == "row" and n.ctx == "load")
    row_calls = sum(1 for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Getattr)
                    and isinstance(c.node.node, nodes.Name) and c.node.node.name == "row" and c.node.attr in accessors)
    imports = row_loads != row_calls or any(
        True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)))
    randomness = any(f.name in _RANDOM_FILTERS for f in tree.find_all(nodes.Filter)) or any(
        n.name in env.globals and n.name not in _PURE_GLOBALS for n in tree.find_all(nodes.Name))  # lipsum, added globals
    free = frozenset(meta.find_undeclared_variables(tree))
    return Reads(frozenset(columns), media, dynamic, free, not (dynamic or imports or randomness))
