"""What opening an Edge shard costs: the mount table read right, holes counted (``sinks/disk_room.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plex_loader_tui.sinks.disk_room import MEMORY_FILE_SYSTEMS, file_system_type, hole_bytes, opening_cost


def _mounts(tmp_path: Path, *lines: str) -> Path:
    table = tmp_path / "mounts"
    table.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return table


def test_the_deepest_mount_holding_the_path_names_its_type(tmp_path) -> None:
    table = _mounts(tmp_path, "/dev/vda / ext4 rw 0 0", "tmpfs /tmp tmpfs rw 0 0",
                    "/dev/vdb /tmp/disk xfs rw 0 0", "tmpfs /tmpx tmpfs rw 0 0")
    assert file_system_type(Path("/tmp/a/b"), table) == "tmpfs"
    assert file_system_type(Path("/tmp/disk/q"), table) == "xfs"
    assert file_system_type(Path("/tmp"), table) == "tmpfs"
    assert file_system_type(Path("/tmpfoo/q"), table) == "ext4"  # a name sharing a prefix is not inside


def test_blanks_in_mount_points_are_unescaped_and_the_mount_on_top_wins(tmp_path) -> None:
    table = _mounts(tmp_path, "/dev/vda / ext4 rw 0 0", r"tmpfs /media/my\040disk tmpfs rw 0 0",
                    "/dev/vdc /media/my\\040disk btrfs rw 0 0")
    assert file_system_type(Path("/media/my disk/q"), table) == "btrfs"


def test_an_unreadable_mount_table_is_unknown(tmp_path) -> None:
    assert file_system_type(tmp_path, tmp_path / "missing") is None


def test_holes_are_the_preallocated_bytes_not_written(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    with open(tmp_path / "sub" / "sparse", "wb") as f:
        f.truncate(8 * 2**20)
    (tmp_path / "dense").write_bytes(b"x" * 2**20)
    assert 8 * 2**20 - 64 * 1024 <= hole_bytes(tmp_path) <= 8 * 2**20


def test_opening_costs_nothing_outside_a_memory_file_system(tmp_path) -> None:
    if file_system_type(tmp_path) in MEMORY_FILE_SYSTEMS:
        pytest.skip("the test's temporary folder is itself on tmpfs")
    with open(tmp_path / "sparse", "wb") as f:
        f.truncate(8 * 2**20)
    assert hole_bytes(tmp_path) > 0
    assert opening_cost(tmp_path) == 0  # a hole read from a disk allocates no block
    assert opening_cost(tmp_path / "no-shard-yet") == 0
