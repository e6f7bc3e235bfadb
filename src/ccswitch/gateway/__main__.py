"""`python -m ccswitch.gateway`: read the JSON config from stdin, serve until stopped.

Where the launcher cannot fork a private child (not Linux; see spawn.py), it starts the gateway
this way. The config (with the upstream tokens) comes over stdin, never argv or the environment,
where `ps` and /proc would show it; the process is made non-dumpable before it reads a byte of it
(lifecycle.keep_memory_private). Stdin is read and the parent watch armed before aiohttp is imported
(a quarter of a second), so the launcher's write never waits on our imports and a parent that dies
meanwhile is noticed. Exit status: 0 after a clean stop, 2 for a bad config (one line on stderr).
`process.serve` is the rest of the process's life, shared with the forked gateway (spawn.py).
"""

from __future__ import annotations

import json
import sys

from ccswitch.gateway.config import GatewayConfig, GatewayConfigError
from ccswitch.gateway.lifecycle import keep_memory_private
from ccswitch.gateway.process import serve


def main() -> int:
    keep_memory_private()
    try:
        config = GatewayConfig.from_dict(json.loads(sys.stdin.buffer.read() or b"null"))
        if config.listen is None:
            raise GatewayConfigError("listen: missing (an inherited socket's fd, or host and port)")
    except (ValueError, GatewayConfigError) as exc:  # json's errors are ValueErrors too
        message = str(exc) if isinstance(exc, GatewayConfigError) else "the config on stdin is not valid JSON"
        print(f"ccswitch gateway: {message}", file=sys.stderr)
        return GatewayConfigError.exit_status
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
