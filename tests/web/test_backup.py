"""`campaign backup FILE` and `campaign restore FILE` while the service runs, on both databases."""

from __future__ import annotations

import re
import stat

from sqlmodel import Session, func, select

from campaign.db import head_revisions
from campaign.models import Hit, Subscriber


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_a_backup_taken_while_serving_restores_while_serving(live, kit, cli, tmp_path) -> None:
    sent = kit.send(live)
    pixel = re.search(r'src="([^"]+/o/[^"]+\.gif)"', sent.html("anne@example.org")).group(1)
    assert live.get(pixel.removeprefix(live.url)).status_code == 200
    live.flush()
    people, hits = _count(live.engine, Subscriber), _count(live.engine, Hit)
    assert hits == 1

    file = tmp_path / "sauvegarde.backup"
    result = cli("backup", file)
    assert result.exit_code == 0, result.stderr
    (head,) = head_revisions()
    assert "Backup written to" in result.stdout and head in result.stdout
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # it holds every subscriber
    again = cli("backup", file)
    assert again.exit_code == 1 and "already exists" in again.stderr

    # Life goes on after the backup: a new subscriber, another open.
    with Session(live.engine) as session:
        session.add(Subscriber(email="apres@example.org", first_name="Après"))
        session.commit()
    assert live.get(pixel.removeprefix(live.url)).status_code == 200
    live.flush()
    assert _count(live.engine, Hit) == 2

    result = cli("restore", file, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "restored from" in result.stdout
    assert _count(live.engine, Subscriber) == people
    assert _count(live.engine, Hit) == hits
    with Session(live.engine) as session:
        assert (
            session.exec(select(Subscriber).where(Subscriber.email == "apres@example.org")).all()
            == []
        )

    # The running service goes on writing into the restored database.
    assert live.get(pixel.removeprefix(live.url)).status_code == 200
    live.flush()
    assert _count(live.engine, Hit) == hits + 1


def test_restore_refuses_what_is_not_a_backup_and_asks_first(live, cli, tmp_path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("pas une sauvegarde")
    result = cli("restore", junk, "--yes")
    assert result.exit_code == 1 and "is not a backup of a campaign database" in result.stderr
    missing = cli("restore", tmp_path / "absent.backup", "--yes")
    assert missing.exit_code == 1 and "No backup at" in missing.stderr

    file = tmp_path / "copie.backup"
    assert cli("backup", file).exit_code == 0
    declined = cli("restore", file, input="n\n")
    assert declined.exit_code == 1 and "Nothing restored" in declined.stderr
