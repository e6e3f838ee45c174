"""``python -m scalinglab`` runs the command-line interface."""

from scalinglab.cli import main

main()
