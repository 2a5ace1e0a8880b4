"""The debtors' assistant: understands replies and chats, acts through the real flows, hands over to people."""
