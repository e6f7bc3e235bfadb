"""Profile texts several test modules share."""

EXAMPLE = """\
default = "glm"                  # optional: the profile used when a command is given none

[profiles.work]
base_url = "https://gateway.example.com/anthropic"
auth = "bearer"                  # bearer -> ANTHROPIC_AUTH_TOKEN, x-api-key -> ANTHROPIC_API_KEY, none
token = "env:WORK_GATEWAY_KEY"   # token reference
model = "sonnet"                 # what `run` launches with
[profiles.work.models]
opus = "glm-5.1"
sonnet = "glm-5.1"
haiku = "glm-4.5-air"            # optional too: subagent, small_fast, fable
[profiles.work.env]              # any extra variables, string values only
API_TIMEOUT_MS = "3000000"

[profiles.myglm]
extends = "glm"                  # inherit a preset (or another profile) and override fields
token = "env:MY_ZHIPU_KEY"
"""

REQUIRED_PRESETS = (
    "anthropic bedrock vertex foundry glm zai kimi kimi-coding qwen qwen-coding deepseek minimax "
    "openrouter siliconflow modelscope ollama vllm lmstudio litellm ai-gateway"
).split()

# Two providers and a gateway profile routing between them (format with the mocks' URLs as pa, pb).
PA_PB = """\
[profiles.pa]
base_url = "{pa}"
token = "env:PA_T"
[profiles.pa.models]
opus = "pa-opus"
sonnet = "pa-sonnet"
haiku = "pa-haiku"

[profiles.pb]
base_url = "{pb}"
token = "env:PB_T"
[profiles.pb.models]
opus = "pb-opus"
sonnet = "pb-sonnet"
haiku = "pb-haiku"

[profiles.mix]
routes = {{ opus = "pa", sonnet = "pb", haiku = "pb" }}
"""
