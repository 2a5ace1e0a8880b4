"""Arrangements: pay links, payment plans, extensions, promises to pay and settlements (offers,
terms, the daily review of kept and broken arrangements). See docs/repayment.md."""
