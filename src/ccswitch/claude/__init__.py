"""Claude Code itself: the variables it reads, its model aliases, its settings files and which source
wins, its `.claude.json`, and its command line. What the code relies on is recorded, with how each
fact was observed, in docs/claude-code.md.

May import: the ground floor (errors, paths, fsutil). Nothing here knows what a profile is.
"""
