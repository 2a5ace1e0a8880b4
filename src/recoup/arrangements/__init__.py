"""Arrangements: pay links now; payment plans, extensions, promises and settlements to come."""
