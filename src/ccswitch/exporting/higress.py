"""Higress: the model-router plugin (routes by the provider part of `PROFILE/MODEL`) and one ai-proxy
rule per profile, with the Ingress and McpBridge entry each route needs, as Kubernetes resources.
Which fields were checked against Higress's plugin reference, and how, is in docs/import-export.md
("Higress"). Higress reads no environment variables: each key is a `${VAR}` placeholder to fill
(e.g. with envsubst) when the resources are applied.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ccswitch.exporting.plan import Export
from ccswitch.profiles.apis import OPENAI_CHAT, OPENAI_RESPONSES, PATHS
from ccswitch.profiles.model import Profile

NAMESPACE = "higress-system"
PROVIDER_HEADER = "x-higress-llm-provider"
PLUGIN_URL = "oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/{name}:1.0.0"
# A key that fails (429, 5xx) leaves the rotation for a while; then the request is retried on another.
FAILOVER = {"enabled": True, "failureThreshold": 1, "cooldownDuration": 60000, "failoverOnStatus": ["429", "5.*"]}
RETRY = {"enabled": True, "maxRetries": 2, "retryOnStatus": ["429", "5.*"]}


def resources(export: Export) -> list[dict]:
    """The resources, in the order they can be applied. A `routes` profile's tiers reach different
    hosts, which one Higress route cannot: its groups are left out (a note says so), as are the
    `fallback` lists, which these two plugins cannot express (ai-proxy fails over between keys)."""
    rules, ingresses, registries = [], [], []
    routed_models: dict[str, dict[str, str]] = {}
    profiles: dict[str, Profile] = {}
    for group in export.groups.values():
        provider, _, rest = group.name.partition("/")
        if provider != group.profile.name:
            export.notes.append(f"{group.name}: left out (a routes profile's tier; name {group.profile.name}/"
                                f"{group.model} instead)")
            continue
        routed_models.setdefault(provider, {})[rest] = group.model
        profiles[provider] = group.profile
        if group.fallbacks:
            export.notes.append(f"{group.name}: its fallbacks ({', '.join(group.fallbacks)}) are not exported: "
                                "ai-proxy and model-router fail over between keys, not between providers")
    for provider, mapping in routed_models.items():
        profile = profiles[provider]
        if profile.api == OPENAI_RESPONSES:
            export.notes.append(f"{provider}: left out (ai-proxy's reference names no Responses API backend)")
            continue
        url = urlsplit(profile.base_url or "")
        host, path = url.hostname or "", url.path.rstrip("/")
        port = url.port or (80 if url.scheme == "http" else 443)
        authority = url.netloc.rpartition("@")[2]  # as written: an IPv6 host keeps its brackets
        route = f"ccswitch-{provider}"[:63].lower().replace(".", "-").replace("_", "-")
        config: dict[str, object] = {
            "type": _provider_type(profile),
            "apiTokens": ["${%s}" % v for v in export.keys.get(profile.name) or []],
            "modelMapping": mapping,
        }
        if config["type"] == "openai":  # ai-proxy turns claude's /v1/messages into Chat Completions
            config["openaiCustomUrl"] = f"{authority}{path}{PATHS[OPENAI_CHAT]}"
        elif config["type"] == "generic":
            config["genericHost"] = authority
            if path:
                config["basePath"], config["basePathHandling"] = path, "prepend"
        if config["apiTokens"]:
            config["failover"] = dict(FAILOVER, healthCheckModel=next(iter(mapping.values())))
            config["retryOnFailure"] = dict(RETRY)
        rules.append({"ingress": [route], "config": {"provider": config}})
        ingresses.append(_ingress(route, provider, host, tls=url.scheme != "http"))
        registries.append({"name": route, "type": "dns", "domain": host, "port": port})
    router = _plugin("model-router", {"defaultConfig": {"addProviderHeader": PROVIDER_HEADER}})
    proxy = _plugin("ai-proxy", {"matchRules": rules})
    bridge = {"apiVersion": "networking.higress.io/v1", "kind": "McpBridge",
              "metadata": {"name": "default", "namespace": NAMESPACE}, "spec": {"registries": registries}}
    return [router, proxy, bridge, *ingresses]


def _provider_type(profile: Profile) -> str:
    """ai-proxy's provider type: `openai` for an OpenAI Chat Completions endpoint, `claude` for
    x-api-key, else `generic` (Bearer, the request passed on in Anthropic's format)."""
    if profile.api == OPENAI_CHAT:
        return "openai"
    return "generic" if profile.auth_mode == "bearer" else "claude"


def _plugin(name: str, spec: dict) -> dict:
    return {"apiVersion": "extensions.higress.io/v1alpha1", "kind": "WasmPlugin",
            "metadata": {"name": f"ccswitch-{name}", "namespace": NAMESPACE},
            "spec": {**spec, "url": PLUGIN_URL.format(name=name)}}


def _ingress(route: str, provider: str, host: str, *, tls: bool) -> dict:
    annotations = {"higress.io/backend-protocol": "HTTPS" if tls else "HTTP", "higress.io/destination": f"{route}.dns"}
    if tls:
        annotations.update({"higress.io/proxy-ssl-name": host, "higress.io/proxy-ssl-server-name": "on"})
    annotations[f"higress.io/exact-match-header-{PROVIDER_HEADER}"] = provider
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": route, "namespace": NAMESPACE, "labels": {"higress.io/resource-definer": "higress"},
                     "annotations": annotations},
        "spec": {"ingressClassName": "higress", "rules": [{"http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"resource": {"apiGroup": "networking.higress.io", "kind": "McpBridge", "name": "default"}}}]}}]},
    }
