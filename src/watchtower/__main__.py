from watchtower.cli import main

main()
