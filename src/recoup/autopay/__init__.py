"""Autopay: the debtor's mandate for the wallet to collect each bill on its due date, and the
collections the daily run asks for under it (docs/repayment.md, "Autopay")."""
