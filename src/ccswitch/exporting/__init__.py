"""`ccswitch export`: the user's profiles handed to a real gateway, as a LiteLLM proxy config or as
Higress's ai-proxy and model-router plugin configuration, with the ccswitch profiles that point
claude at it. No key is ever written: each is a variable the gateway reads (docs/import-export.md).

May import: the ground floor, `claude`, `profiles`.
"""
