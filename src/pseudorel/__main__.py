from pseudorel.cli import main

main()
