"""Does a profile work, and is anything in its way: the probe request, `ccswitch test`, `doctor`.

May import: the ground floor, `claude`, `profiles`, `switching.records`.
"""
