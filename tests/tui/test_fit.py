"""Figures fitted into a width: short counts, cells in columns, groups that wrap between each other."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from plex_loader_tui.tui import fit
from plex_loader_tui.tui import format as fmt


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (99_999, "99,999"), (100_000, "100.0k"), (256_000, "256.0k"), (999_949, "999.9k"),
     (999_960, "1.0M"), (1_234_567, "1.2M"), (123_456_789, "123.5M"), (1_234_567_890, "1.2G")],
)
def test_short_count(n: int, text: str):
    assert fmt.short_count(n) == text


@given(st.integers(min_value=0, max_value=999_949_999_999))
def test_a_short_count_never_needs_more_than_six_characters(n: int):
    assert len(fmt.short_count(n)) <= fmt.SHORT_COUNT_WIDTH


labels = st.text(alphabet="abcdefghij", min_size=1, max_size=8)
values = st.text(alphabet="0123456789,./%", min_size=1, max_size=7)
fields = st.builds(fit.field, labels, values)


@given(st.lists(fields, min_size=1, max_size=12), st.integers(min_value=1, max_value=200))
def test_cells_in_columns_keep_their_order_and_never_pass_the_width(cells: list[Text], width: int):
    cell_width = 16  # every cell here fits in it
    width = max(width, cell_width)
    lines = fit.columns(cells, width, cell_width)
    assert all(line.cell_len <= width for line in lines)
    assert " ".join(" ".join(line.plain.split()) for line in lines) == " ".join(
        " ".join(cell.plain.split()) for cell in cells
    )
    # As many columns as the width holds (cells and the two-space gaps between them).
    per_row = (width + 2) // (cell_width + 2)
    assert len(lines) == -(-len(cells) // per_row)


def test_columns_line_cells_up_and_use_the_width():
    cells = [fit.field("workers", "2/2"), fit.field("batch", "16"), fit.field("in", "1,140"), fit.field("out", "9")]
    assert [line.plain for line in fit.columns(cells, 35, 15)] == [
        "workers 2/2      batch 16",
        "in 1,140         out 9",
    ]
    assert [line.plain for line in fit.columns(cells, 25, 15)] == ["workers 2/2", "batch 16", "in 1,140", "out 9"]


@given(st.lists(st.lists(fields, min_size=1, max_size=4), min_size=1, max_size=5), st.integers(min_value=16, max_value=200))
def test_flowed_groups_keep_their_order_and_never_pass_the_width(groups: list[list[Text]], width: int):
    lines = fit.flow(groups, width)
    assert all(line.cell_len <= width for line in lines)  # every field (≤ 16) fits a line
    words = [word for line in lines for word in line.plain.replace("│", " ").split()]
    assert words == [word for group in groups for f in group for word in f.plain.split()]


def test_flow_wraps_between_groups_before_it_wraps_inside_one():
    groups = [
        [Text("1,182 / 3,000"), fit.field("ETA", "0:48")],
        [fit.field("loaded", "1,083"), fit.field("failed", "3")],
    ]
    assert [line.plain for line in fit.flow(groups, 80)] == ["1,182 / 3,000  ETA 0:48  │ loaded 1,083  failed 3"]
    assert [line.plain for line in fit.flow(groups, 30)] == ["1,182 / 3,000  ETA 0:48", "loaded 1,083  failed 3"]
    assert [line.plain for line in fit.flow(groups, 16)] == ["1,182 / 3,000", "ETA 0:48", "loaded 1,083", "failed 3"]
