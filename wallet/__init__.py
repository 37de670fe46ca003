"""The domain, in rooms: members (users, stores, staff), the ledger, earning (rules, tiers,
purchases), and rewards and receipts to come; ``overview`` reads across them for the wallet screen.

Nothing here imports Flask or ``api``. Functions take a SQLAlchemy ``Session`` and
keyword-only plain values, flush what they write, and leave the commit to the caller
(a request, a job, a CLI command or a test), which rolls back by default.
"""
