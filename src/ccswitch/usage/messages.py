"""One API response's usage, as read from a transcript line or a gateway record."""

from __future__ import annotations

from collections import namedtuple

# More tokens than any response has: a count above it is not a real one (the line is malformed), and
# SQLite's 64-bit sums of millions of counts below it cannot overflow.
MAX_TOKENS = (1 << 40) - 1
# The times a response can have: a day after the epoch to a day before the year 9999 ends (UTC), so
# that its local date in any zone is a date of 1970-9999. SQLite's date() gives NULL past 9999 and
# Python's date fails outside 1-9999 (a report's week, its chart); a time before 1970 has no local
# time on Windows. A line outside is malformed, a gateway record outside is not read.
MIN_TS = 86400.0
MAX_TS = 253402214400.0 - 86400.0


class Message(namedtuple("Message", [
    "message_id",             # str
    "request_id",             # str
    "session",                # str
    "model",                  # str
    "ts",                     # float  # seconds since the epoch, UTC
    "cwd",                    # str
    "input_tokens",           # int
    "output_tokens",          # int
    "cache_read_tokens",      # int
    "cache_write_tokens",     # int
    "cache_write_1h_tokens",  # int
    "sidechain",              # bool
    "fast",                   # bool
    "turn_start",             # bool
], defaults=[0, False, False, False])):
    """The usage of one API response.

    `request_id` is "" when the line carried none. `cache_write_1h` is the part of `cache_write`
    written with the 1-hour TTL (priced higher by Anthropic); `fast` is claude's fast mode
    (`usage.speed == "fast"`), priced at a multiple. `turn_start` marks the first response after a
    person's prompt: counting them counts prompts (docs/usage.md, "Prompts").
    """
    __slots__ = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.message_id, self.request_id)

    def better_than(self, other: Message) -> bool:
        """Which of two lines of the same response to keep.

        claude writes one line per content block and the early ones carry the usage of
        `message_start` (output_tokens still 1 or so): the most complete usage is the one with the
        most output tokens, then the most tokens overall. A sidechain replay of a parent's message
        never beats the parent (ccusage #913: `/btw` asides replay parent lines).
        """
        if self.sidechain != other.sidechain:
            return other.sidechain
        if self.output_tokens != other.output_tokens:
            return self.output_tokens > other.output_tokens
        return self.total_tokens > other.total_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def prompt_tokens(self) -> int:
        """What a provider's long-context threshold is measured on: every input token of the request."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
