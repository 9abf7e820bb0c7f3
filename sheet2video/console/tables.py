"""Terminal output that never breaks a word: a path, a job key or an error code is shown whole.

``print_table`` draws a rich table only when every cell fits whole at the console's width (columns
in ``wrap`` may wrap between words, the others stay on one line); otherwise it prints one block per
row instead, a list that reads well at any width. ``say`` prints prose wrapped between words. A
single word longer than the whole line is left to the terminal (nothing can show it whole).
"""

from __future__ import annotations

import textwrap

from rich.cells import cell_len

__all__ = ["BORDER", "say", "print_table"]

BORDER = 3  # per column: a border and one space of padding on each side (plus one closing border)


def say(console, text: str, indent: str = "", style: str | None = None) -> None:
    """Print ``text`` wrapped between words at the console's width; continuation lines indented."""
    width = max(console.width, 20)
    for paragraph in text.splitlines() or [""]:
        body = paragraph.lstrip(" ")
        lead = paragraph[: len(paragraph) - len(body)]  # an indent of the first line is kept, not wrapped away
        lines = textwrap.wrap(body, width, initial_indent=lead, subsequent_indent=lead + indent,
                              break_long_words=False, break_on_hyphens=False) or [""]
        for line in lines:
            console.print(line, style=style, soft_wrap=True, markup=False, highlight=False)


def print_table(console, columns: list[str], rows: list[list[str]], *, wrap: tuple[str, ...] = (),
                caption: str | None = None, inline: int = 1) -> bool:
    """Print ``rows`` as a table if it fits whole, else as a list (its first ``inline`` cells on one
    line, each other cell below as ``name: value``, one line per value). True when it was a table."""
    widths = _fitting_widths(columns, rows, wrap, console.width)
    if widths is None:
        _print_list(console, columns, rows, inline)
    else:
        from rich.table import Table

        table = Table()
        for name, width in zip(columns, widths):
            table.add_column(name, width=width, no_wrap=name not in wrap, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    if caption:
        say(console, caption)
    return widths is not None


def _fitting_widths(columns, rows, wrap, total: int) -> list[int] | None:
    """Column widths at which no cell breaks a word within ``total`` columns, or None."""
    need, natural = [], []
    for i, name in enumerate(columns):
        cells = [name] + [row[i] for row in rows]
        lines = [line for cell in cells for line in (cell.splitlines() or [""])]
        longest_line = max(cell_len(line) for line in lines)
        longest_word = max((cell_len(w) for line in lines for w in line.split()), default=0)
        need.append(max(longest_word, cell_len(name)) if name in wrap else longest_line)
        natural.append(longest_line)
    room = total - BORDER * len(columns) - 1
    spare = room - sum(need)
    if spare < 0:
        return None
    widths = list(need)
    for i, name in enumerate(columns):  # what is left goes to the wrapping columns, up to their natural width
        if name in wrap:
            extra = min(spare, natural[i] - widths[i])
            widths[i] += extra
            spare -= extra
    return widths


def _print_list(console, columns: list[str], rows: list[list[str]], inline: int) -> None:
    for row in rows:
        first = [row[0]] + [f"{name} {cell}" for name, cell in zip(columns[1:inline], row[1:inline]) if cell]
        say(console, "• " + " · ".join(first), indent="  ")
        for name, cell in list(zip(columns, row))[inline:]:
            values = [line for line in cell.splitlines() if line.strip()]
            if not values:
                continue
            label = f"  {name}: "
            if any(len(label) + len(word) > console.width for line in values for word in line.split()):
                say(console, label.rstrip())  # narrow: the name on its own line, the values below it
                label = "    "
            for line in values:
                say(console, label + line, indent="  ")
                label = " " * len(label)  # the name once, the values aligned under each other
