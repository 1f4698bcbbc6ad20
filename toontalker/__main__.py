from toontalker.cli import main

main()
