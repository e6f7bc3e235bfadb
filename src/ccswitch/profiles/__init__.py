"""What a profile is: the model and its validation, profiles.toml and the built-in presets,
comment-keeping edits, token references, routing by model name, pins, and the launch cache.

May import: the ground floor, `claude` (the variables a profile sets), and `switching.records`
(only to know which profile `use` made active).
"""
