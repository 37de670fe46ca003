"""Earning: each country's rules and bonuses, tiers, purchases at the till and refunds, adjustments."""
