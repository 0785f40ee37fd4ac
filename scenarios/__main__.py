from scenarios.regenerate import main

main()
