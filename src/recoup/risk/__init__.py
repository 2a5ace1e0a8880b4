"""Risk models: propensity to pay and to roll, their registry, scores, drift, and how each model
does after it is trained (docs/models.md)."""
