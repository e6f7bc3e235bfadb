"""`use`, `off` and `restore`: changing claude's settings files safely (lock, records, backups,
the read-compute-write transaction, git checks).

May import: the ground floor and `claude`. Takes a profile's environment as a plain dict.
"""
