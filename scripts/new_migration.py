"""Write a new Alembic revision from the difference between the models and the migrations.

Usage: python scripts/new_migration.py "what changed" REV_ID

It upgrades a throw-away SQLite database to the current heads, then autogenerates the revision
into campaign/migrations/versions/. Read the result before committing it.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from campaign.db import _alembic_config, make_engine


def main() -> None:
    message, rev_id = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        config = _alembic_config(engine)
        command.upgrade(config, "heads")
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main()
