"""The strategy engine: versioned collection policies compiled to set-based decisions."""
