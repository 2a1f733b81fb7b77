from parry.cli import main

main()
