"""Fitting figures into a width without cutting any of them.

Two ways to lay out labelled figures, both pure (a test can check any width):
:func:`columns` puts fixed-width cells in as many columns as the width holds,
so a figure keeps its place while it changes; :func:`flow` joins groups of
fields on a line and starts a new line between groups (between fields only
when one group alone is too wide). A line is never cut: the widget gives
itself as many lines as these return.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

#: Between two cells on a row, and between two fields of a group.
GAP = "  "
#: Between two groups on one line.
GROUP_SEPARATOR = "  │ "


def field(label: str, value: str) -> Text:
    """``label value``, the value in bold."""
    return Text.assemble((label, ""), " ", (value, "bold"))


def columns(cells: Sequence[Text], width: int, cell_width: int) -> list[Text]:
    """Lay ``cells`` out row by row in as many columns of ``cell_width`` as ``width`` holds.

    Always at least one column; a cell wider than ``cell_width`` widens every
    column rather than being cut.
    """
    if not cells:
        return []
    cell_width = max(cell_width, *(cell.cell_len for cell in cells))
    per_row = max(1, (width + len(GAP)) // (cell_width + len(GAP)))
    lines: list[Text] = []
    for start in range(0, len(cells), per_row):
        row = cells[start : start + per_row]
        line = Text()
        for index, cell in enumerate(row):
            if index:
                line.append(GAP)
            line.append_text(cell)
            if index < len(row) - 1:
                line.append(" " * (cell_width - cell.cell_len))
        lines.append(line)
    return lines


def flow(groups: Sequence[Sequence[Text]], width: int) -> list[Text]:
    """Join ``groups`` of fields into lines no wider than ``width`` (where possible).

    A group that fits on the current line goes there after :data:`GROUP_SEPARATOR`;
    otherwise it starts a new line, where its fields are joined with :data:`GAP`
    and wrap between fields if the group alone is wider than ``width``. A single
    field wider than ``width`` gets a line of its own (and is left to the terminal).
    """
    lines: list[Text] = []
    line = Text()
    for group in groups:
        fields = [f for f in group if f.cell_len]
        if not fields:
            continue
        whole = Text(GAP).join(fields)
        if line.cell_len and line.cell_len + len(GROUP_SEPARATOR) + whole.cell_len <= width:
            line.append(GROUP_SEPARATOR)
            line.append_text(whole)
            continue
        if line.cell_len:
            lines.append(line)
        line = Text()
        for item in fields:
            if line.cell_len and line.cell_len + len(GAP) + item.cell_len > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append(GAP)
            line.append_text(item)
    if line.cell_len:
        lines.append(line)
    return lines


def join_lines(lines: Sequence[Text]) -> Text:
    """One renderable of ``lines``, newline-separated."""
    return Text("\n").join(lines)
