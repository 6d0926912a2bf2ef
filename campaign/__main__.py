"""``python -m campaign`` is the same as the ``campaign`` command."""

from campaign.cli import main

main()
