"""The real LiteLLM proxy for the export lane (`pytest -m litellm`): a pinned release installed from
PyPI into its own virtualenv under the repo's git-ignored `.cache/` (once; later runs reuse it), so
that its ~100 packages never enter the test venv. Started on loopback only, with the local model
cost map (no fetch at start); this release's telemetry flag is a no-op (docs/import-export.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LITELLM_VERSION = "1.106.2"
REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".cache" / f"litellm-{LITELLM_VERSION}"


class LiteLLMUnavailable(RuntimeError):
    pass


def litellm_binary() -> Path:
    binary = VENV / "bin" / "litellm"
    if binary.exists() and _version_ok():
        return binary
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, capture_output=True, timeout=300)
        result = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                                 f"litellm[proxy]=={LITELLM_VERSION}"], capture_output=True, text=True, timeout=1200)
    except (OSError, subprocess.SubprocessError) as error:
        raise LiteLLMUnavailable(f"could not make the LiteLLM venv in {VENV}: {error}") from None
    if result.returncode != 0 or not binary.exists():
        raise LiteLLMUnavailable(f"pip could not install litellm[proxy]=={LITELLM_VERSION}:\n{result.stderr[-3000:]}")
    return binary


def _version_ok() -> bool:
    try:
        out = subprocess.run([str(VENV / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.strip() == LITELLM_VERSION


class Proxy:
    """`with Proxy(config, port, env) as proxy:` the proxy, ready, on 127.0.0.1:port."""

    def __init__(self, config: Path, port: int, env: dict[str, str], log: Path) -> None:
        self.config, self.port, self.env, self.log = config, port, env, log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Proxy:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.env.get("HOME", str(self.log.parent)),
               "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_PROXY": "127.0.0.1,localhost", **self.env}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([str(litellm_binary()), "--config", str(self.config), "--host", "127.0.0.1",
                                             "--port", str(self.port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LiteLLMUnavailable(f"litellm exited with {self.process.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
                with opener.open(f"{self.url}/health/liveliness", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise LiteLLMUnavailable(f"litellm did not answer within 180 s:\n{self.log.read_text()[-4000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
