"""refbot's benchmarks: each figure measured against a floor taken in the same run on the same
machine, and printed as a ratio with its target (``python -m bench [--quick] [NAME...]``).

The package lives beside the product, not in it: it starts its own servers (a throwaway
Dovecot, an aiosmtpd sink, SQLite files in a temporary folder, PostgreSQL where named), seeds
them, and runs refbot as a user would, as a separate process.
"""
