"""``python -m capaciteit``: the command line."""

from capaciteit.cli import main

main()
