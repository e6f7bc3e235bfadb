"""`python -m ccswitch.gateway`: read the JSON config from stdin, serve until stopped.

The config (with the upstream tokens) comes over stdin, never argv or the environment, where `ps`
and /proc would show it. Stdin is read and the parent watch armed before aiohttp is imported (a
quarter of a second), so the launcher's write never waits on our imports and a parent that dies
meanwhile is noticed. Exit status: 0 after a clean stop, 2 for a bad config (one line on stderr).
"""

from __future__ import annotations

import json
import os
import sys

from ccswitch.gateway.config import GatewayConfig, GatewayConfigError
from ccswitch.gateway.lifecycle import ParentWatch, die_with_parent


def main() -> int:
    try:
        config = GatewayConfig.from_dict(json.loads(sys.stdin.buffer.read() or b"null"))
        if config.listen is None:
            raise GatewayConfigError("listen: missing (an inherited socket's fd, or host and port)")
    except (ValueError, GatewayConfigError) as exc:  # json's errors are ValueErrors too
        message = str(exc) if isinstance(exc, GatewayConfigError) else "the config on stdin is not valid JSON"
        print(f"ccswitch gateway: {message}", file=sys.stderr)
        return GatewayConfigError.exit_status
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


if __name__ == "__main__":
    sys.exit(main())
