"""Risk models: who will pay, who will roll, and why (gradient boosting on tables, calibrated).

The tabular engine and drift (`tabular`, `drift`, pure); the features computed as of a date from
the ledger, the delinquency history, contacts and arrangements (`features`, pure); the models'
registry, the daily scores and their drift (`service`, `repository`); reason words in zh-CN and en
(`reasons`); how each model does after it is trained (`performance`, on the arithmetic of
`watch`, pure)."""
