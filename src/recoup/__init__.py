"""Recoup: a collections platform for digital wallets."""

__version__ = "0.1.0"
