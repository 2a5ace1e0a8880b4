"""The learning centre: articles the debtor reads in the portal, written, reviewed and approved
in the console (four eyes), versioned per language, and counted when read (no reader recorded)."""
