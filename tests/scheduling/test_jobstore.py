"""The job store keeps jobs as readable JSON: a function reference and ids, never a pickle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from campaign.models import SchedulerJob
from campaign.scheduling.jobs import POST_JOB, stop_scheduler
from campaign.scheduling.jobstore import JsonJobStore, decode_trigger, encode_trigger


@pytest.fixture
def scheduler(engine: Engine):
    scheduler = BackgroundScheduler(jobstores={"default": JsonJobStore(engine)}, timezone=UTC)
    scheduler.start(paused=True)
    yield scheduler
    stop_scheduler(scheduler, wait=False)


def test_a_job_is_stored_as_json_naming_its_function_and_ids(
    scheduler: BackgroundScheduler, engine: Engine
) -> None:
    at = datetime(2036, 11, 2, 8, 0, tzinfo=UTC)
    scheduler.add_job(POST_JOB, "date", run_date=at, args=[57], id="post:57")
    with engine.connect() as connection:
        (row,) = connection.execute(select(SchedulerJob.__table__)).all()
    state = json.loads(row.job_state)
    assert state["func"] == "campaign.scheduling.jobs:fire_post"
    assert state["args"] == [57]
    assert state["trigger"] == {"type": "date", "run_date": "2036-11-02T08:00:00+00:00"}
    assert row.next_run_time == at.timestamp()
    (job,) = scheduler.get_jobs()  # and it reads back
    assert (job.id, job.args, job.trigger.run_date) == ("post:57", (57,), at)


def test_a_job_holding_an_object_is_refused(scheduler: BackgroundScheduler) -> None:
    with pytest.raises(ValueError, match="arguments must be ids or short texts"):
        scheduler.add_job(
            POST_JOB, "date", run_date=datetime.now(UTC) + timedelta(hours=1), args=[object()]
        )


def test_a_cron_trigger_survives_the_round_trip_with_its_zone_and_bounds() -> None:
    from apscheduler.triggers.cron import CronTrigger

    zone = ZoneInfo("Europe/Paris")
    trigger = CronTrigger(
        day_of_week="mon",
        hour=8,
        minute=0,
        timezone=zone,
        start_date=datetime(2026, 3, 1, tzinfo=zone),
        end_date=datetime(2026, 12, 31, 23, 59, tzinfo=zone),
    )
    data = json.loads(json.dumps(encode_trigger(trigger)))
    again = decode_trigger(data)
    assert encode_trigger(again) == encode_trigger(trigger)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    assert again.get_next_fire_time(None, start) == trigger.get_next_fire_time(None, start)
