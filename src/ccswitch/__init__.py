"""ccswitch: named provider profiles for Claude Code."""

__version__ = "0.1.0"
