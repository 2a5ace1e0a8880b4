"""Disputes, hardship and complaints: what a debtor raises and a person handles."""
