"""A program on a pseudo-terminal, for the tests that drive interactive claude: it sees a real
terminal (size included), the test reads what it draws and types into it. No tmux: the text is
both the stream as written (scrollback included) and the screen as pyte emulates it, because claude
redraws only the cells that changed and a word can reach the stream in pieces ("fr", a cursor move,
"m-gpt" for "from-gpt")."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence

import pyte

# Colours, cursor moves and the rest of what a TUI draws with, so tests can search the text. A TUI
# often moves the cursor right (or to a column) instead of writing spaces: those moves become spaces.
_CURSOR_RIGHT = re.compile(r"\x1b\[(\d*)C")
_TO_COLUMN = re.compile(r"\x1b\[\d*G")
_ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78M]")


class Terminal:
    """`with Terminal(argv, env, cwd) as term: term.wait_for("❯"); term.type("hi\\r")`"""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str, cols: int = 120, rows: int = 40) -> None:
        self.argv, self.env, self.cwd, self.cols, self.rows = list(argv), dict(env), cwd, cols, rows
        self._output = bytearray()
        self._lock = threading.Lock()
        self._screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._fed = 0  # how much of the output the screen has seen: it is fed when asked, not as read

    def __enter__(self) -> Terminal:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self.process = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, cwd=self.cwd,
                                        start_new_session=True, close_fds=True)
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the program closed the terminal
                return
            if not chunk:
                return
            with self._lock:
                self._output.extend(chunk)

    def stream_text(self) -> str:
        """Everything written so far, escapes removed (scrollback included)."""
        with self._lock:
            raw = bytes(self._output).decode("utf-8", errors="replace")
        spaced = _TO_COLUMN.sub(" ", _CURSOR_RIGHT.sub(lambda m: " " * int(m.group(1) or 1), raw))
        return _ESCAPES.sub("", spaced)

    def screen_text(self) -> str:
        """The screen as it stands. pyte is fed here, not in the reading thread: a slow feed there
        would stop reading the terminal and so slow claude down."""
        with self._lock:
            new, self._fed = bytes(self._output[self._fed:]), len(self._output)
        self._stream.feed(new)
        return "\n".join(line.rstrip() for line in self._screen.display)

    def text(self) -> str:
        return self.stream_text() + "\n" + self.screen_text()

    def _shows(self, needle: str) -> bool:
        return needle in self.stream_text() or needle in self.screen_text()

    def wait_for(self, needle: str, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._shows(needle):
                return True
            if self.process.poll() is not None:
                time.sleep(0.2)
                return self._shows(needle)
            time.sleep(0.1)
        return False

    def raw(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode("utf-8"))

    def __exit__(self, *exc: object) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait(timeout=30)
        os.close(self._master)
