"""What a check finds: one shape for every warning and check result (`status`, `doctor`, `run`'s
warnings, `remove`'s notes), so every front end prints and serialises them the same way.

On the launch path: no imports.
"""

from __future__ import annotations

# Levels, mildest first. `doctor` exits 1 on any FAIL; `status` and `run` print WARN and FAIL;
# SKIPPED is a check that could not run here (`test` of a cloud profile).
INFO, SKIPPED, OK, WARN, FAIL = "info", "skipped", "ok", "warn", "fail"
LEVELS = (INFO, SKIPPED, OK, WARN, FAIL)


class Finding:
    """`code` is stable (scripts and `doctor` act on it); `check` names what was checked, for
    tables; `fix` is one line the user can act on."""

    __slots__ = ("code", "level", "message", "fix", "check")

    def __init__(self, code: str, level: str, message: str, fix: str = "", check: str | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        self.code = code
        self.level = level
        self.message = message
        self.fix = fix
        self.check = check or code

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "message": self.message, "fix": self.fix}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return all(getattr(self, slot) == getattr(other, slot) for slot in self.__slots__)

    def __repr__(self) -> str:
        return f"Finding({self.code!r}, {self.level!r}, {self.message!r})"


def worst(findings: list[Finding] | tuple[Finding, ...]) -> str:
    return max((f.level for f in findings), key=LEVELS.index, default=OK)
