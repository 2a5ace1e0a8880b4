"""Server-rendered pages: the debtor's portal (and the staff console to come)."""
