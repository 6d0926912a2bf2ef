"""Alembic environment: runs migrations on the engine handed over by ``campaign.db.upgrade``."""

from typing import cast

from alembic import context
from sqlmodel import SQLModel

import campaign.models  # noqa: F401  (registers every table on the metadata)
from campaign.db import make_engine

config = context.config
# campaign.db.upgrade always hands the engine over; the URL is for a bare ``alembic`` command.
url = cast(str, config.get_main_option("sqlalchemy.url"))
engine = config.attributes.get("engine") or make_engine(url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
