"""What a profile tells claude: every managed variable set or blanked, plus the profile's own env.
"""

from __future__ import annotations

from ccswitch.claude.models import (
    BORROW_ORDER,
    CONTEXT_1M,
    DEFAULT_CONTEXT_WINDOW,
    MIN_AUTO_COMPACT_WINDOW,
    TIERS,
    is_alias,
)
from ccswitch.claude.state import prepare_state
from ccswitch.claude.variables import (
    API_KEY,
    AUTH_TOKEN,
    AUTO_COMPACT_WINDOW,
    CLOUD_SWITCHES,
    DISABLE_1M_CONTEXT,
    MANAGED_VARIABLES,
    MAX_CONTEXT_TOKENS,
    MODEL_VARIABLES,
    NO_TOKEN,
    TIER_DESCRIPTION_VARIABLES,
    TIER_NAME_VARIABLES,
    cloud_switch,
)
from ccswitch.errors import UsageError
from ccswitch.profiles.apis import LABELS, is_translated
from ccswitch.profiles.model import Profile
from ccswitch.profiles.schema import host_and_port

ANTHROPIC_HOST = "api.anthropic.com"
# Hosts naming this machine, as a base URL spells them (a local gateway or model server).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_third_party(profile: Profile) -> bool:
    """Whether the profile sends claude to an endpoint that is not Anthropic's (nor a cloud's): one
    that serves only the models the profile names."""
    if not profile.base_url or cloud_switch(profile.env) is not None or profile.auth == "login":
        return False  # `login`: a proxy in front of Anthropic, serving Anthropic's models
    return url_host(profile.base_url) != ANTHROPIC_HOST


def url_host(url: str) -> str:
    """The host of a URL, lower case, as `urllib.parse.urlsplit(url).hostname` gives it ("" for none)."""
    host = host_and_port(url)[0].lower()
    return host[1:-1] if host.startswith("[") else host


def tier_models(profile: Profile) -> dict[str, tuple[str, str]]:
    """tier -> (model, where it comes from: the tier itself, the tier it borrows, or "model").

    For a third-party profile every tier claude can pick is filled: a tier it leaves out borrows a
    mapped one (BORROW_ORDER), and a profile that maps none but names a full `model` uses that for
    all. Other profiles keep exactly their own mapping: claude's defaults are right for them.
    """
    own = {tier: (model, tier) for tier, model in profile.models.items() if tier in TIERS}
    if not is_third_party(profile):
        return own
    if not own and profile.model and not is_alias(profile.model):
        return {tier: (profile.model, "model") for tier in TIERS}
    filled = dict(own)
    for tier in TIERS:
        if tier not in filled:
            lender = next((other for other in BORROW_ORDER[tier] if other in own), None)
            if lender is not None:
                filled[tier] = (own[lender][0], lender)
    return filled


def tier_routes(profile: Profile) -> dict[str, str]:
    """tier -> the profile that serves it: the profile's `routes` (a tier left out borrows a routed
    one, as an unmapped model tier does), or every tier to the profile itself (`run NAME --gateway`)."""
    if not profile.routes:
        return dict.fromkeys(TIERS, profile.name)
    routes = dict(profile.routes)
    for tier in TIERS:
        if tier not in routes:
            lender = next(other for other in BORROW_ORDER[tier] if other in profile.routes)
            routes[tier] = profile.routes[lender]
    return routes


def profile_environment(profile: Profile, token: str | None, *, include_model: bool = True) -> dict[str, str]:
    """Every managed variable, set from the profile or blanked, plus the profile's own env.

    `include_model` puts the profile's `model` into ANTHROPIC_MODEL; `run` passes `--model` instead.
    """
    env = dict.fromkeys(MANAGED_VARIABLES, "")
    if profile.base_url:
        env["ANTHROPIC_BASE_URL"] = profile.base_url
    token_var = profile.token_variable()
    if token_var and token:
        env[token_var] = token
    third_party = is_third_party(profile)
    if third_party and not env[AUTH_TOKEN] and not env[API_KEY]:
        env[AUTH_TOKEN] = NO_TOKEN  # never the user's own claude.ai login (claude.variables.NO_TOKEN)
    for tier, model in profile.models.items():
        env[MODEL_VARIABLES[tier]] = model
    if third_party:
        env.update(third_party_model_environment(profile))
    if include_model and profile.model:
        env["ANTHROPIC_MODEL"] = profile.model
    if profile.headers:
        env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in profile.headers.items())
    env.update(profile.env)
    return env


def context_window(profile: Profile) -> int:
    """The window claude plans for on this profile: the profile's `context_window`, else what claude
    assumes of a model it does not know (never the 1M it would assume by default)."""
    return profile.context_window or DEFAULT_CONTEXT_WINDOW


def third_party_model_environment(profile: Profile) -> dict[str, str]:
    """For an endpoint that serves only the profile's models: every tier filled, named in the `/model`
    menu, and the context window claude believes, with no 1M beta unless the window is 1M
    (docs/claude-code.md, "Context window": each of the three context variables is needed)."""
    env: dict[str, str] = {}
    window = context_window(profile)
    if window < CONTEXT_1M:
        env[DISABLE_1M_CONTEXT] = "1"
    env[MAX_CONTEXT_TOKENS] = str(window)  # plain digits: claude reads "200k" as 200
    env[AUTO_COMPACT_WINDOW] = str(max(window, MIN_AUTO_COMPACT_WINDOW))
    for tier, (model, source) in tier_models(profile).items():
        env[MODEL_VARIABLES[tier]] = model
        env[TIER_NAME_VARIABLES[tier]] = model
        borrowed = f" · as {source}" if source != tier else ""
        env[TIER_DESCRIPTION_VARIABLES[tier]] = f"{profile.name} via ccswitch · {window // 1000}k context{borrowed}"
    return env


def needs_gateway(profile: Profile) -> bool:
    """A profile that exists only through a gateway: one with `routes`, or one whose endpoint speaks
    an OpenAI format (the gateway translates; docs/translation.md, "Profiles")."""
    return bool(profile.routes) or is_translated(profile.api)


def refuse_gateway_only(profile: Profile, command: str) -> None:
    """`use` and `env` only set variables: a profile that needs a gateway is refused in one line."""
    if profile.routes:
        raise UsageError(f"profile {profile.name!r} routes its tiers to other profiles through a gateway, which "
                         f"`{command}` cannot start: use `ccswitch run {profile.name}`, or run `ccswitch gateway "
                         f"{profile.name}` and point claude at it")
    if is_translated(profile.api):
        raise UsageError(f"profile {profile.name!r} speaks the {LABELS[str(profile.api)]} API, which claude reaches only "
                         f"through ccswitch's translating gateway, which `{command}` cannot start: use `ccswitch run "
                         f"{profile.name}` (or `ccswitch gateway {profile.name}`)")


def sends_no_token(profile: Profile) -> str | None:
    """Why no token of this profile would ever reach claude (a `routes` profile, `auth = "none"`:
    claude's own login, a cloud's credentials, an endpoint that takes none), or None when one would."""
    if profile.routes:
        targets = ", ".join(dict.fromkeys(profile.routes.values()))
        return f"routes its tiers to other profiles ({targets}), each with its own token, and sends none itself"
    if profile.token_variable() is not None:
        return None
    switch = cloud_switch(profile.env)
    if switch is not None:
        cloud, credentials = CLOUD_SWITCHES[switch]
        return f"uses {cloud} with {credentials} credentials (auth = \"none\") and sends no token"
    if profile.auth == "login":
        return "sends claude's own login to its endpoint (auth = \"login\") and no token"
    if not profile.base_url:
        return "uses claude's own login (auth = \"none\") and sends no token"
    return f"has auth = \"none\" and sends no token (set `auth` first: ccswitch edit {profile.name})"


def needs_onboarding_fix(profile: Profile) -> bool:
    """Every profile except claude's own Anthropic login, where the first-run screens are the login."""
    if profile.auth == "login":
        return False  # claude's own login: its first-run screens are the login
    if profile.base_url or profile.token or profile.auth != "none":
        return True
    return cloud_switch(profile.env) is not None


def prepare_claude_state(profile: Profile, token: str | None, state_path: str) -> str | None:
    """What `run` and `use` set in claude's `.claude.json` so that interactive claude starts on the
    profile without a question: the onboarding key (every profile but claude's own login) and, for an
    x-api-key profile, its key approved. Returns a warning, or None."""
    approve = token if profile.token_variable() == API_KEY else None
    onboarding = needs_onboarding_fix(profile)
    if not onboarding and not approve:
        return None
    try:
        return prepare_state(state_path, onboarding=onboarding, approve_key=approve)
    except OSError as exc:
        return f"{state_path}: cannot write ({exc.strerror or exc}); claude may show its first-run screens"
