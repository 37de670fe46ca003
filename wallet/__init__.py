"""The domain: members and staff, and (as it grows) the ledger, rules, tiers and rewards.

Nothing here imports Flask or ``api``. Functions take a SQLAlchemy ``Session`` and
keyword-only plain values, flush what they write, and leave the commit to the caller
(a request, a job, a CLI command or a test), which rolls back by default.
"""
