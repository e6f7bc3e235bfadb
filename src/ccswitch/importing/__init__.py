"""`ccswitch import`: providers configured in another tool (cc-switch's SQLite database, ccs's
config and settings files, claude-code-router's config.json, claude's own settings) read from that
tool's own files and turned into profiles. The formats, and how each was confirmed from the tool's
own code, are in docs/import-export.md.

Each reader returns a `Found` (entries, what was skipped and why); `plan` decides what each entry
does to profiles.toml (add, unchanged, clash, replace) and `apply` writes it through the profiles
package's validated, atomic, comment-keeping path, secrets first into the OS keyring.

May import: the ground floor, `claude`, `profiles`.
"""
