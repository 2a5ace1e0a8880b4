"""Server-rendered pages: the debtor's portal."""
