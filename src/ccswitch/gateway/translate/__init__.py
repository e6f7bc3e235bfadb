"""Translation between claude's Anthropic Messages API and OpenAI-format upstreams (Chat Completions
and Responses), tool loops included. docs/translation.md has the mapping and every decision.

Sans-IO: pure functions and small state machines over bytes and dicts; no sockets, no aiohttp.

May import: the stdlib (json, re, zlib, base64), `ccswitch.gateway.sse`, `ccswitch.gateway.apierror`
and `ccswitch.profiles.apis`. The gateway's request path (`forward`) drives these; nothing here
imports it.

Modules:
    tools              tool names (64-character limit) and tool-call ids (Gemini's thought signatures)
                       in both directions; JSON-schema keywords a provider refuses
    content            Anthropic content blocks -> OpenAI parts (text, images, documents, tool results)
    params             output limit, reasoning level, tool choice, output format; `encode`
    chat_request       an Anthropic Messages body -> a Chat Completions body, and the Context the
                       answer's translators need
    responses_request  an Anthropic Messages body -> a Responses body
    events             the Anthropic SSE writer: ordered blocks, usage in Anthropic terms, stop reasons
    stream             StreamTranslator: feed(bytes) -> bytes and close(), shared by the two below
    chat_stream        Chat Completions SSE bytes -> Anthropic SSE bytes, chunk by chunk
    responses_stream   Responses SSE bytes -> Anthropic SSE bytes, chunk by chunk
    chat_answer        a Chat Completions JSON answer -> an Anthropic message
    responses_answer   a Responses JSON answer -> an Anthropic message
    count_tokens       an input-token estimate for /v1/messages/count_tokens
"""
