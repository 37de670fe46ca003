"""Rewards: the catalog, code pools, redemptions and the voucher wallet (to come)."""
