"""Quality assurance: sent messages and placed calls drawn at random, reviewed by a person against
a checklist, with findings. Its own package (not `audit`): the audit is the machine's tamper-evident
record and the independent re-check of the rules; QA is a person's judgement of what the rules
cannot see (a threat in an agent's words, a wrong amount said on a call), with its own lifecycle
(drawn, pending, reviewed). It reads the contacts it samples through its own repository."""
