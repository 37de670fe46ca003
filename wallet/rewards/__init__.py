"""Rewards: the catalog, code pools, redemptions, the voucher wallet and physical orders.

- ``catalog``: rewards (voucher with a code, digital, physical), what a partner is shown
  (its country, its tier, the availability window) and stock counts for admins.
- ``codes``: the normal form of a code, AES-GCM at rest with rotating keys, the keyed
  lookup hash the till finds it by, and the codes the program makes.
- ``code_import``: a vendor's CSV streamed into a pool, with a report by line number.
- ``stock``: codes out of a pool (``FOR UPDATE SKIP LOCKED``: never one code twice),
  stock figures, the low-stock warning.
- ``redemption``: points out through the ledger, codes out, vouchers in, one transaction.
- ``vouchers``: the wallet, the till's "used" (exactly once), cancel with refund, expiry.
- ``orders``: physical rewards' timeline and delivery times. ``limits``: per day, month, ever.

What always holds: a code is issued at most once; no code is stored or logged in plain
text; points move only through ``wallet.ledger`` (spend and reverse), so its invariants
hold; every refusal is a ``wallet.rewards.errors`` error with a reason a partner reads.
"""
