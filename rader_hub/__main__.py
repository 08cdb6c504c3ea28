"""`python -m rader_hub` runs the `rader` command line."""

from rader_hub.cli import main

main()
