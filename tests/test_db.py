"""The database: migrations build the schema, keep data on upgrade and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

import campaign.db
from campaign.db import current_revisions, head_revisions, open_database
from campaign.errors import CampaignError
from campaign.models import MailingList, Membership, Subscriber
from tests.conftest import mode_of


def test_migrations_on_an_empty_database_create_every_table_of_the_models(
    database_url: str,
) -> None:
    engine = open_database(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert "alembic_version" in tables
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()


def test_opening_an_up_to_date_database_again_keeps_its_data_and_migrates_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_database(database_url)
    with Session(engine) as session:
        mailing_list = MailingList(name="Newsletter nationale")
        subscriber = Subscriber(email="jean@example.org", first_name="Jean")
        session.add_all([mailing_list, subscriber])
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
        session.commit()
    revisions = current_revisions(engine)
    engine.dispose()

    def no_upgrade(_engine: object) -> None:
        raise AssertionError("an up-to-date database must not be migrated again")

    monkeypatch.setattr(campaign.db, "upgrade", no_upgrade)
    engine = open_database(database_url)
    try:
        assert current_revisions(engine) == revisions == head_revisions()
        with Session(engine) as session:
            (subscriber,) = session.exec(select(Subscriber)).all()
            assert (subscriber.email, subscriber.first_name) == ("jean@example.org", "Jean")
            assert session.exec(select(MailingList.name)).all() == ["Newsletter nationale"]
            assert len(session.exec(select(Membership)).all()) == 1
    finally:
        engine.dispose()


def test_the_models_match_the_migrations(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'campaign.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with Session(engine) as session:
            session.add(Membership(subscriber_id=999, list_id=999))
            with pytest.raises(IntegrityError):
                session.commit()
    finally:
        engine.dispose()


def test_an_sqlite_file_whose_folder_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CampaignError, match="Cannot open the database"):
        open_database(f"sqlite:///{blocker / 'sub' / 'campaign.db'}")


def test_an_sqlite_file_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "campaign.db"
    folder.mkdir()  # a folder where the database file should be
    with pytest.raises(CampaignError, match="Cannot open the database"):
        open_database(f"sqlite:///{folder}")


def test_an_unreachable_postgresql_server_is_a_clear_error() -> None:
    with pytest.raises(CampaignError, match="Cannot open the database") as caught:
        open_database("postgresql://campaign:hunter2@127.0.0.1:1/campaign")
    assert "hunter2" not in str(caught.value)


def test_a_url_that_is_not_a_database_url_is_a_clear_error() -> None:
    with pytest.raises(CampaignError, match="is not a database URL"):
        open_database("not a url")


def test_a_url_whose_driver_is_not_installed_is_a_clear_error() -> None:
    with pytest.raises(CampaignError, match="driver that is not installed") as caught:
        open_database("mysql://campaign:hunter2@127.0.0.1/campaign")
    assert "hunter2" not in str(caught.value)


@pytest.mark.usefixtures("usual_umask")
def test_a_new_sqlite_database_and_its_wal_files_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "campaign.db"
    engine = open_database(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            session.add(Subscriber(email="lea@example.org"))
            session.commit()
            # The -wal and -shm files exist while a connection is open.
            modes = {
                name: mode_of(tmp_path / "data" / name)
                for name in ("campaign.db", "campaign.db-wal", "campaign.db-shm")
            }
    finally:
        engine.dispose()
    assert modes == dict.fromkeys(modes, 0o600)
    assert mode_of(tmp_path / "data") == 0o700


def test_the_quick_reading_of_the_migrations_agrees_with_alembic() -> None:
    """Commands check the schema from the files' headers, without importing Alembic."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(campaign.db.MIGRATIONS))
    assert head_revisions() == set(scripts.get_heads())
    assert campaign.db.known_revisions() == {s.revision for s in scripts.walk_revisions()}


def test_the_recorded_revisions_are_alembics_own(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with engine.connect() as connection:
            alembic_says = set(MigrationContext.configure(connection).get_current_heads())
        assert current_revisions(engine) == alembic_says == head_revisions()
    finally:
        engine.dispose()


def test_the_migrations_form_one_chain() -> None:
    """One head: two branches each adding a migration after the same one must be re-chained."""
    assert len(head_revisions()) == 1, head_revisions()
