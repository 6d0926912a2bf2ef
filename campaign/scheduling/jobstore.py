"""APScheduler's SQLAlchemy job store, keeping each job as JSON instead of a pickle.

The stock store pickles the whole job (trigger objects included) into a binary column: an
opaque blob that a new version of a library, or of our code, may fail to read, and that would
run whatever object it was given. Our jobs hold nothing but a function reference and ids
("publish post 57"), so they are written as readable JSON; anything else (an object argument, a
trigger we do not use) is refused when the job is stored. The table is ``scheduler_job``,
created by our migrations like every other table.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from campaign.models import SchedulerJob

_SCALARS = (int, str, bool, type(None))


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def encode_trigger(trigger: BaseTrigger) -> dict[str, Any]:
    if isinstance(trigger, DateTrigger):
        return {"type": "date", "run_date": _moment(trigger.run_date)}
    if isinstance(trigger, CronTrigger):
        return {
            "type": "cron",
            "timezone": str(trigger.timezone),
            "start_date": _moment(trigger.start_date),
            "end_date": _moment(trigger.end_date),
            "jitter": trigger.jitter,
            "fields": {field.name: str(field) for field in trigger.fields},
        }
    raise ValueError(f"the job store keeps date and cron triggers only, not {trigger!r}")


def decode_trigger(data: dict[str, Any]) -> BaseTrigger:
    if data["type"] == "date":
        return DateTrigger(run_date=_parse(data["run_date"]))
    if data["type"] == "cron":
        return CronTrigger(
            **data["fields"],
            timezone=ZoneInfo(data["timezone"]),
            start_date=_parse(data["start_date"]),
            end_date=_parse(data["end_date"]),
            jitter=data["jitter"],
        )
    raise ValueError(f"unknown trigger type {data['type']!r}")


def encode_job(job: Job) -> str:
    """The job as JSON: function reference, scalar arguments, trigger, run settings."""
    state = job.__getstate__()
    arguments = [*state["args"], *state["kwargs"].values()]
    if not all(isinstance(value, _SCALARS) for value in arguments):
        raise ValueError(
            f"job {job.id}: arguments must be ids or short texts, not objects ({state['args']!r})"
        )
    return json.dumps(
        {
            "version": 1,
            "id": state["id"],
            "func": state["func"],
            "args": list(state["args"]),
            "kwargs": dict(state["kwargs"]),
            "name": state["name"],
            "executor": state["executor"],
            "trigger": encode_trigger(state["trigger"]),
            "misfire_grace_time": state["misfire_grace_time"],
            "coalesce": state["coalesce"],
            "max_instances": state["max_instances"],
            "next_run_time": _moment(state["next_run_time"]),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def decode_state(text: str) -> dict[str, Any]:
    data = json.loads(text)
    data["args"] = tuple(data["args"])
    data["trigger"] = decode_trigger(data["trigger"])
    data["next_run_time"] = _parse(data["next_run_time"])
    return data


class JsonJobStore(SQLAlchemyJobStore):
    """:class:`SQLAlchemyJobStore` on our engine and table, with JSON job states."""

    def __init__(self, engine: Engine) -> None:
        BaseJobStore.__init__(self)
        self.engine = engine
        self.jobs_t = SchedulerJob.__table__  # type: ignore[attr-defined]

    def start(self, scheduler: Any, alias: str) -> None:
        BaseJobStore.start(self, scheduler, alias)  # the table comes from our migrations

    def shutdown(self) -> None:
        """The engine belongs to the service, which disposes of it."""

    def add_job(self, job: Job) -> None:
        insert = self.jobs_t.insert().values(
            id=job.id,
            next_run_time=datetime_to_utc_timestamp(job.next_run_time),
            job_state=encode_job(job),
        )
        with self.engine.begin() as connection:
            try:
                connection.execute(insert)
            except IntegrityError:
                raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        update = (
            self.jobs_t.update()
            .values(
                next_run_time=datetime_to_utc_timestamp(job.next_run_time),
                job_state=encode_job(job),
            )
            .where(self.jobs_t.c.id == job.id)
        )
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount == 0:
                raise JobLookupError(job.id)

    def _reconstitute_job(self, job_state: str) -> Job:
        state = decode_state(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job
