"""The gateway process's life once it has its config, whether it was exec'd (`__main__`, the config
from stdin) or forked by the launcher (spawn.py): end with the parent, create files privately,
serve, and remove the session's files at the end.

Stdlib only until it serves: the parent watch is armed before aiohttp is imported (a quarter of a
second), so a parent that dies meanwhile is noticed.
"""

from __future__ import annotations

import os

from ccswitch.gateway.config import GatewayConfig
from ccswitch.gateway.lifecycle import ParentWatch, die_with_parent


def serve(config: GatewayConfig) -> int:
    """Serve `config` until stopped: end with the parent, create files privately, then the HTTP
    stack (imported only now), and remove the session's files at the end. Exit status 0."""
    parent = None
    if config.parent_pid is not None:
        die_with_parent()
        parent = ParentWatch(config.parent_pid)
        if not parent.alive():
            return 0  # the session ended before we started
    os.umask(0o077)  # everything we create (the records database, its WAL) is private

    from ccswitch.gateway.server import run

    try:
        run(config, parent)
    finally:
        for path in config.remove_on_exit:
            try:
                os.unlink(path)
            except OSError:
                pass
    return 0
