"""The day: one flow for the daily run (arrangements review, delinquency pass, scoring when a model
is active, strategy, stale agent tasks), used by `recoup run daily`, `recoup scheduler` and the
simulator; `daily_runs` records each day so it runs once."""
