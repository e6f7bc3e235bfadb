"""Does a profile work, and is anything in its way: the probe request, `ccswitch test`, `doctor`.

May import: the ground floor, `claude`, `profiles`, `switching.records`, and `usage.providers` (doctor's
check of the price tables, which `usage` reads).
"""
