"""`python -m recoup`: the `recoup` command."""

from recoup.cli.main import main

main()
