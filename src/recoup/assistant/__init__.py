"""The debtors' assistant: understands what they write and acts through the real flows."""
