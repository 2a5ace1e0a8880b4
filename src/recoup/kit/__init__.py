"""Plumbing with no domain: database, column types, clock, crypto, errors, money, pagination."""
