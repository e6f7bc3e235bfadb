"""The recorded streams in tests/fixtures/translate/streams/ are exactly what tests/support/openai_streams.py
builds from the openai package's models (regenerate with `python tests/support/openai_streams.py`)."""

from __future__ import annotations

from support.openai_streams import STREAMS, chat_streams, responses_streams


def test_recorded_streams_are_what_the_builder_makes():
    built = {f"chat-{k}.sse": v for k, v in chat_streams().items()}
    built |= {f"responses-{k}.sse": v for k, v in responses_streams().items()}
    assert {p.name: p.read_bytes() for p in STREAMS.glob("*.sse")} == built
