"""Several processes starting together on one new database upgrade its schema once, all fine.

Each process opens the database (which upgrades it) at the same moment, released together by a
file the test writes once all of them are waiting for it. On PostgreSQL they take turns under
an advisory lock, on SQLite under a lock file beside the database; the ones that wait find the
schema current and migrate nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from campaign.db import head_revisions, normalise_url

ROOT = Path(__file__).resolve().parents[1]
STARTER = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
from campaign.db import current_revisions, open_database
engine = open_database(sys.argv[1])
print("at", *sorted(current_revisions(engine)), flush=True)
"""


def test_processes_starting_together_upgrade_the_schema_once(database_url: str, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The heavy imports first (campaign.models, alembic), so the race is on the migration.
    starter = "import campaign.db, campaign.models, alembic.command\n" + STARTER
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", starter, database_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        go.write_text("go")
        outputs = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
    heads = " ".join(sorted(head_revisions()))
    for (out, err), process in zip(outputs, processes, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == f"at {heads}", (out, err)
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert [row[0] for row in rows] == sorted(head_revisions())
