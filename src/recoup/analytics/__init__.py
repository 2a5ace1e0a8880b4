"""Analytics: KPIs, roll rates, experiment results and the HTML report, set-based over the
database, for real runs and simulated ones alike (docs/analytics.md)."""
