"""Risk models: who will pay, who will roll, and why (gradient boosting on tables, calibrated)."""
