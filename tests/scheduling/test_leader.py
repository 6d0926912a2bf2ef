"""Leader election: one holder at a time, freed when the holder goes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from campaign.db import normalise_url
from campaign.scheduling.leader import (
    FileLeadership,
    PostgresLeadership,
    SoleLeadership,
    leadership_for,
)


def test_the_lock_file_admits_one_holder_until_it_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "campaign.db.scheduler.lock"
    first, second = FileLeadership(path), FileLeadership(path)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_each_database_gets_its_kind_of_lock(tmp_path: Path) -> None:
    assert isinstance(leadership_for(f"sqlite:///{tmp_path / 'c.db'}"), FileLeadership)
    assert isinstance(leadership_for("sqlite:///:memory:"), SoleLeadership)
    assert isinstance(leadership_for("postgresql://u@127.0.0.1/db"), PostgresLeadership)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_advisory_lock_passes_to_a_standby_when_the_leaders_session_dies(
    database_url: str,
) -> None:
    leader, standby = PostgresLeadership(database_url), PostgresLeadership(database_url)
    try:
        assert leader.try_acquire() and leader.still_held()
        assert not standby.try_acquire()
        # The leader's session ends as if its process were killed.
        assert leader.connection is not None
        backend = leader.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        admin.dispose()
        # pg_terminate_backend only signals: the session ends (and frees the lock) soon after.
        deadline = time.monotonic() + 10
        while not standby.try_acquire():
            assert time.monotonic() < deadline, "the lock was not freed"
            time.sleep(0.05)
        assert not leader.still_held()  # it finds out at its next check and stands down
        assert not leader.try_acquire()
    finally:
        leader.release()
        standby.release()
