"""The agent's workbench: "next account" (the queue, its locks and the guard), account 360, the
call's wrap-up and notes; the supervisor's queues and reassignment. Work spanning domains, as
`daily` is: it owns no table and writes through each owner's service or flow (agents' tasks and
notes, arrangements' promises and offers, cases, consents, contact's calls)."""
