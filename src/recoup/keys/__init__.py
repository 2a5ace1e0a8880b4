"""Key management: data and index keys wrapped by the master key, rotation, blind-index backfill."""
