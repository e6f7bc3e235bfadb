"""ccswitch's per-session gateway: a loopback Anthropic Messages pass-through that claude talks to.
It routes each request to an upstream profile by its model, fails over before the first byte, and
records usage. docs/gateway.md says what it does and how claude behaves around it.

May import: from ccswitch only `fsutil`, the pure vocabularies `claude.models`, `profiles.patterns`,
`profiles.apis` and `profiles.quota` (the quota format), and `usage.windows` (the pure arithmetic of
quota windows, shared with `ccswitch usage --windows`: both count a window the same way); in the
gateway process only the stdlib and aiohttp (no typer, rich, httpx, tomlkit, tomllib, and none of
the usage engine's index or scan). `config`, `routing` and `spawn` are stdlib-only,
so the launcher can validate a config, name claude's models and start the process cheaply; this
`__init__` imports nothing.

Modules:
    config     the config dict -> GatewayConfig; GatewayConfigError (one line, exit status 2)
    routing    model name -> upstream, model id and fallback attempts (pure); the `::` separator
    body       read the body once; replace its model without re-serialising or copying; strip thinking blocks
    headers    session-key check; headers to the upstream and back
    failover   which statuses fail over; the per-upstream circuit breaker (injected clock)
    keys       an upstream's key pool: the key a request goes with, keys cooling after 429/quota/refusal
    quota      the quota windows a profile declares, counted: an upstream whose quota is used up waits
    upstream   one attempt at one upstream with aiohttp's client; when its answer must start
    usage      token usage and message id from SSE events or a JSON answer
    forward    the request handler: route, fail over (probe, refused thinking), relay, record
    translated an OpenAI-format upstream: its URL, headers, body, probe; its answer and errors in Anthropic's shape
    records    the SQLite schema (versioned), its writer thread, and the answered requests read back
    apierror   Anthropic-shaped error bodies and SSE error events; OpenAI-format errors in that shape
    sse        SSE framing and an incremental `data:` reader (shared by apierror and translate)
    translate/ Anthropic Messages <-> OpenAI Chat Completions / Responses, sans-IO (its own docstring)
    server     aiohttp's low-level server, signals, parent watch, clean shutdown
    lifecycle  the process and the kernel: ending with the parent, non-dumpable
    process    serve(config): the process's life once it has its config (exec'd or forked)
    spawn      listen_fd_socket() and spawn(config, sock) -> pid, for the launcher (forked private on Linux)
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
      "timeouts": {"connect": 10, "first_byte": 60, "response": 600, "idle": 90},  # optional, seconds
      "breaker": {"failures": 3, "cooldown": 30, "max_cooldown": 300},             # optional
      "upstreams": {                        # every profile a request may reach, tokens resolved
        "kimi": {
          "base_url": "https://api.moonshot.cn/anthropic",   # http(s), no trailing /v1 (anthropic api)
          "api": "anthropic" | "openai-chat" | "openai-responses",   # optional, default anthropic
          "openai": {"max_tokens_field": "max_completion_tokens"},   # optional, OpenAI formats only
                                            # (the options of profiles/apis.py; defaults filled in)
          "auth": "bearer" | "x-api-key" | "none",           # default bearer
          "token": "sk-...",                # one key; required unless auth is none or tokens is given
          "tokens": [[0, "sk-a..."], [2, "sk-c..."]],         # or a key pool: [index, key] for each key
                                            # that resolved, the index its place in the profile's
                                            # array (recorded); not beside token (keys.py)
          "headers": {"X-Team": "a"},       # optional; may not set credentials or framing
          "models": {"opus": "kimi-k2", "sonnet": "kimi-k2", "haiku": "kimi-k2-turbo", "fable": "kimi-k2"},
          "serves": ["kimi-k2*"],           # optional shell-style patterns (`*` stops at '/')
          "fallback": ["glm"],              # optional; tried in order when kimi fails
          "supports_1m": false,             # optional; false strips context-1m-* betas
          "quota": [{"window": "5h", "prompts": 600, "reset": "block"}]
                                            # optional: the windows in force, in the profiles' format
                                            # (profiles/quota.py; a table or a list); one with a limit
                                            # used up, the upstream is tried last (gateway/quota.py)
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
