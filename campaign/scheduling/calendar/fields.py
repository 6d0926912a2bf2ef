"""One calendar entry read against its declared fields, each problem placed at its line.

:class:`Entry` validates a field when the entry's reader asks for it, against the field's
declaration in :mod:`~campaign.scheduling.calendar.schema`, and records each refusal as a
:class:`~campaign.scheduling.calendar.entries.Problem` at the line of the field (or of the key
inside a table) that :class:`~campaign.scheduling.tomlsource.SourceMap` finds in the entry's
range of lines. The reader asks in the order it checks, so the problems come in that order.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from campaign.config import Settings
from campaign.scheduling import timing
from campaign.scheduling.calendar.entries import Calendar, Problem
from campaign.scheduling.calendar.schema import field_names
from campaign.scheduling.calendar.values import Missing, Table
from campaign.taxonomy import Taxonomy


@cache
def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The fields of ``model`` by the name the file gives them."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for the one field ``name`` of ``model``, as declared."""
    info = _fields(model)[name]
    declared: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(declared)


@dataclass
class _Outcome:
    failed: bool = False


class Entry:
    """One entry being checked: reads its fields and records problems at their lines."""

    def __init__(
        self,
        calendar: Calendar,
        kind: str,
        data: Mapping[str, Any],
        span: tuple[int, int],
        number: int,
        model: type[BaseModel],
        taxonomy: Taxonomy,
    ) -> None:
        self.calendar = calendar
        self.kind = kind
        self.data = data
        self.span = span
        self.model = model
        self.taxonomy = taxonomy
        key = data.get("key")
        self.key = key if isinstance(key, str) else None
        self.where = f"{kind} {self.key!r}" if self.key else f"{kind} #{number}"
        self.prefix: tuple[str, ...] = ()  # the table the fields are in (``("events",)``)
        self._outcome = _Outcome()

    @property
    def failed(self) -> bool:
        return self._outcome.failed

    def table(self, name: str) -> Entry | None:
        """The sub-table ``name`` read against its own declared fields (None if not a table)."""
        info = _fields(self.model)[name]
        (table,) = (item for item in info.metadata if isinstance(item, Table))
        value = self.data.get(name, info.get_default(call_default_factory=True))
        if not isinstance(value, dict):
            self.error(table.refusal, name)
            return None
        inner = copy.copy(self)
        inner.data, inner.model, inner.prefix = value, table.model, (*self.prefix, name)
        return inner

    def line(self, *path: str) -> int:
        assert self.calendar.source is not None
        return self.calendar.source.field_line(self.kind, self.span, (*self.prefix, *path))

    def error(self, message: str, *path: str) -> None:
        self._outcome.failed = True
        self.calendar.problems.append(
            Problem("error", self.calendar.path, self.line(*path), self.where, message)
        )

    def warning(self, message: str, *path: str) -> None:
        self.calendar.problems.append(
            Problem("warning", self.calendar.path, self.line(*path), self.where, message)
        )

    def label(self, name: str) -> str:
        """The field as messages name it: ``events.from`` inside ``events``."""
        return ".".join((*self.prefix, name))

    def unknown_fields(self, allowed: Sequence[str] | None = None) -> None:
        """Refuse every field the entry's model does not declare (or not in ``allowed``)."""
        allowed = allowed if allowed is not None else field_names(self.model)
        prefix = ".".join(self.prefix)
        for name in self.data:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(
                    f"unknown field '{prefix + '.' if prefix else ''}{name}'{hint}; "
                    f"a {self.kind} takes: {', '.join(allowed)}",
                    name,
                )

    def value(self, name: str, *, required: bool | None = None) -> Any:
        """Field ``name`` checked as declared: its value, its default when it is absent and not
        required (``required`` overrides the declaration), None when refused."""
        info = _fields(self.model)[name]
        required = info.is_required() if required is None else required
        if name not in self.data:
            if required:
                missing = next((item for item in info.metadata if isinstance(item, Missing)), None)
                label = self.label(name)
                self.error(
                    missing.message.format(field=label) if missing else f"'{label}' is missing"
                )
                return None
            return copy.deepcopy(info.get_default(call_default_factory=True))
        adapter = _adapter(self.model, name)
        return self.check(adapter, self.data[name], self.label(name), name, required=required)

    def check(
        self,
        adapter: TypeAdapter[Any],
        value: Any,
        label: str,
        *path: str,
        required: bool = False,
    ) -> Any:
        """``value`` validated by ``adapter`` (None when refused, each refusal at ``path``)."""
        context = {"field": label, "required": required, "taxonomy": self.taxonomy}
        try:
            return adapter.validate_python(value, context=context)
        except ValidationError as exc:
            for error in exc.errors():
                self.error(error["msg"], *path, *(str(part) for part in error["loc"]))
            return None


def moment(entry: Entry, name: str, settings: Settings, now: datetime) -> datetime | None:
    """A required date and time in UTC: a local one read in the configured zone (refused when a
    change of time makes it impossible or ambiguous), one with an offset as it is; a time in the
    past is worth a warning."""
    value = entry.value(name)
    if value is None:
        return None
    try:
        moment = timing.to_utc(value, settings.zone)
    except timing.LocalTimeError as exc:
        entry.error(str(exc), name)
        return None
    if moment < now:
        grace = timedelta(seconds=settings.scheduler.misfire_grace)
        shown = value if value.tzinfo is None else moment.astimezone(settings.zone)
        later = (
            "sync does not create past entries"
            if moment < now - grace
            else "it goes out as soon as the service sees it"
        )
        entry.warning(f"{name} {shown:%Y-%m-%d %H:%M} is in the past ({later})", name)
    return moment


def check_key(entry: Entry, seen: dict[tuple[str, str], int]) -> str | None:
    """The entry's key, if well formed and not used by another entry of the same kind."""
    key = entry.value("key")
    if key is None:
        return None
    if (entry.kind, key) in seen:
        line = seen[(entry.kind, key)]
        entry.error(f"key {key!r} is already used by the {entry.kind} at line {line}", "key")
        return None
    seen[(entry.kind, key)] = entry.span[0]
    return key
