"""`python -m sim`: check the command line, then hand over to the Hydra app."""

from sim.app import main

main()
