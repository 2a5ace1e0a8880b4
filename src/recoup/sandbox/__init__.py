"""Stand-ins for the parties Recoup works with, for development, the demo and tests: they speak
the documented interfaces over real HTTP, so the whole path runs as it will in production."""
