from recoup.cli.main import main

main()
