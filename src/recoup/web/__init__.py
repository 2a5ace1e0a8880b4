"""Server-rendered pages: the debtor's portal (the staff console is issue 19)."""
