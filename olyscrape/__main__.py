from olyscrape.cli import main

main()
