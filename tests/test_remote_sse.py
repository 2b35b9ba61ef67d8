"""The event-stream parser: pieces as the network cuts them, line endings, comments, multi-line data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plex_loader_tui.remote.sse import EventParser, ServerEvent

STREAM = (
    ": keep-alive\r\n"
    "event: status\r\ndata: {\"a\": 1}\r\n\r\n"
    "data: first\ndata: second\n\n"
    "event: status\rdata:no-space\r\r"
    "id: 7\nretry: 1500\nevent: status\ndata: x\n\n"
    "event: nothing\n\n"  # no data: dropped
    "data: unfinished"
)
EXPECTED = [
    ServerEvent("status", '{"a": 1}'),
    ServerEvent("message", "first\nsecond"),
    ServerEvent("status", "no-space"),
    ServerEvent("status", "x", id="7", retry_ms=1500),
]


def test_a_whole_stream_parses_into_its_events():
    assert EventParser().feed(STREAM) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_cutting_of_the_stream_gives_the_same_events(cuts):
    parser, events, start = EventParser(), [], 0
    for cut in sorted(set(cuts)) + [len(STREAM)]:
        events += parser.feed(STREAM[start:cut])
        start = cut
    assert events == EXPECTED


def test_a_crlf_split_between_pieces_is_one_line_end():
    parser = EventParser()
    assert parser.feed("data: a\r") == []
    assert parser.feed("\n\r\n") == [ServerEvent("message", "a")]
