"""Contact delivery: templates, the outbox worker and the channel adapters."""
