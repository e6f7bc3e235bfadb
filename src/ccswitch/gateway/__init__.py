"""ccswitch's per-session gateway: a loopback Anthropic Messages pass-through that claude talks to.
It routes each request to an upstream profile by its model, fails over before the first byte, and
records usage. docs/gateway.md says what it does and how claude behaves around it.

May import: from ccswitch only `fsutil` and the pure vocabularies `claude.models` and
`profiles.patterns`; in the gateway process only the stdlib and aiohttp (no typer, rich, httpx,
tomlkit, tomllib). `config`, `routing` and `spawn` are stdlib-only,
so the launcher can validate a config, name claude's models and start the process cheaply; this
`__init__` imports nothing.

Modules:
    config     the config dict -> GatewayConfig; GatewayConfigError (one line, exit status 2)
    routing    model name -> upstream, model id and fallback attempts (pure); the `::` separator
    body       read/replace the body's model without re-serialising; strip thinking blocks
    headers    session-key check; headers to the upstream and back
    failover   which statuses fail over; the per-upstream circuit breaker (injected clock)
    upstream   one attempt at one upstream with aiohttp's client
    usage      token usage and message id from SSE events or a JSON answer
    forward    the request handler: route, fail over, relay, record
    records    the SQLite schema (versioned) and its writer thread
    apierror   Anthropic-shaped error bodies and SSE error events
    server     aiohttp's low-level server, signals, parent watch, clean shutdown
    lifecycle  parent-death detection (prctl on Linux, plus a periodic check)
    spawn      listen_fd_socket() and spawn(config, sock) -> pid, for the launcher
    __main__   `python -m ccswitch.gateway`: config from stdin, serve

The config (JSON, sent on the child's stdin; tokens never on argv or in the environment)::

    {
      "version": 1,                         # optional; this format
      "session": "4f1c...",                 # recorded with every row (e.g. claude's session id)
      "key": "<16-512 printable ASCII>",    # the per-session client key: x-api-key or Bearer
      "listen": {"fd": 3}                   # an inherited listening socket (spawn() sets this)
             | {"host": "127.0.0.1", "port": 8080},   # or bind (foreground mode)
      "allow_remote": false,                # a non-loopback host needs true
      "records": "/path/usage.sqlite3" | null,        # usage rows; null: none
      "parent_pid": 1234 | null,            # exit when this process is gone
      "timeouts": {"connect": 10, "first_byte": 60, "response": 600, "idle": 300},  # optional, seconds
      "breaker": {"failures": 3, "cooldown": 30, "max_cooldown": 300},             # optional
      "upstreams": {                        # every profile a request may reach, tokens resolved
        "kimi": {
          "base_url": "https://api.moonshot.cn/anthropic",   # http(s), no trailing /v1
          "auth": "bearer" | "x-api-key" | "none",           # default bearer
          "token": "sk-...",                # required unless auth is none
          "headers": {"X-Team": "a"},       # optional; may not set credentials or framing
          "models": {"opus": "kimi-k2", "sonnet": "kimi-k2", "haiku": "kimi-k2-turbo", "fable": "kimi-k2"},
          "serves": ["kimi-k2*"],           # optional shell-style patterns (`*` stops at '/')
          "fallback": ["glm"],              # optional; tried in order when kimi fails
          "supports_1m": false              # optional; false strips context-1m-* betas
        },
        ...
      },
      "tiers": {"opus": "kimi", "sonnet": "glm", "haiku": "deepseek", "fable": "kimi"}
    }

Every tier of `models` and `tiers` must be filled (the launcher resolves borrowed tiers). A
failover goes to the routed profile's own `fallback` list, in order, not to the fallbacks'
fallbacks; so only a profile that falls back to itself is a cycle. Unknown keys are errors.
claude should get `routing.tier_model_names(config)` as ANTHROPIC_DEFAULT_<TIER>_MODEL.
"""
