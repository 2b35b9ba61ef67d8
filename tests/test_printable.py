"""Text from upstream is printed and logged with its control characters shown, never obeyed."""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path

import pytest

from plex_loader_tui.cli import configure_logging
from plex_loader_tui.cli.redaction import print_error
from plex_loader_tui.main import main
from plex_loader_tui.printable import one_line, printable
from store_support import EmbeddedStore

# Sets the terminal title, rings the bell, clears the screen, a C1 CSI, a NUL, then forges a line of ours.
HOSTILE = "Heist\x1b]0;pwned\x07 Night\x1b[2J\x9b31m\x00\nplex-loader-tui: error: forged"
RAW_CONTROLS = ("\x1b", "\x07", "\x00", "\x9b")


def assert_inert(text: str) -> None:
    assert not any(c in text for c in RAW_CONTROLS), repr(text)


def test_controls_are_written_out_and_ordinary_text_is_untouched():
    assert printable("Amélie\t(2001) — 日本") == "Amélie\t(2001) — 日本"
    assert printable(HOSTILE) == (
        "Heist\\e]0;pwned\\x07 Night\\e[2J\\x9b31m\\x00\\nplex-loader-tui: error: forged"
    )
    assert printable("a\nb\rc", keep_newlines=True) == "a\nb\\rc"
    assert one_line("  two\n\nlines \x1b[1m ") == "two lines \\e[1m"


def test_log_lines_show_controls_and_a_message_cannot_forge_a_line(tmp_path: Path):
    stream = io.StringIO()
    log_file = tmp_path / "run.log"
    handlers = configure_logging("DEBUG", log_file, [], stream=stream)
    log = logging.getLogger("plex_loader_tui.test_printable")
    try:
        log.warning("page failed: %s", HOSTILE)
        try:
            raise RuntimeError(HOSTILE)
        except RuntimeError:
            log.exception("lookup failed")
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    for text in (stream.getvalue(), log_file.read_text(encoding="utf-8")):
        assert_inert(text)
        warning = next(line for line in text.splitlines() if "page failed" in line)
        assert warning.endswith("\\nplex-loader-tui: error: forged")  # one line, whatever it quotes
        assert "RuntimeError: Heist\\e]0;pwned" in text  # the traceback is kept (its lines too), made inert


def test_the_error_line_shows_controls(capsys: pytest.CaptureFixture[str]):
    print_error(f"Plex answered 400: {HOSTILE}")
    err = capsys.readouterr().err
    assert_inert(err)
    assert err.count("\n") == 1 and err.startswith("plex-loader-tui: error: Plex answered 400: Heist\\e]0;pwned")


def test_search_prints_a_hostile_title_on_its_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from embed_support import bundled_models, catalogue

    from plex_loader_tui.embed.stage import Embedder
    from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink

    embedder = Embedder(bundled_models())
    item = next(i for i in catalogue() if i.source.type == "movie")
    hostile = dataclasses.replace(item, source=dataclasses.replace(item.source, title=HOSTILE))
    qdrant = tmp_path / "qdrant"
    sink = QdrantSink(QdrantSettings(path=qdrant), embedder.dense_dim, *embedder.model_names)
    sink.connect()
    try:
        sink.ensure_collection()
        sink.upsert(embedder.embed([hostile]))
    finally:
        sink.close()
    env = {"PLEX_LOADER_CONFIG_DIR": str(tmp_path / "config"), "PLEX_LOADER_DATA_DIR": str(tmp_path / "data")}
    code = main(["search", "heist night", "--limit", "1", "--qdrant-path", str(qdrant)], env)
    out = capsys.readouterr().out
    assert code == 0
    assert_inert(out)
    assert len(out.splitlines()) == 2, out  # the header and one hit: no forged line
    assert "Heist\\e]0;pwned\\x07 Night" in out.splitlines()[1]
    # The payload keeps the exact original text.
    with EmbeddedStore(qdrant) as store:
        (payload,) = store.payloads().values()
    assert payload["title"] == HOSTILE
