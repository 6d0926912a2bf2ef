"""Rules the dashboard and the command line share, decided once in the newsletters stage
(issue #20): each test calls the stage directly, so that it fails if the rule goes back into a
door."""

from __future__ import annotations

from campaign.models import WhenNoEvents
from campaign.newsletters import records


def test_a_draft_being_typed_reads_an_unknown_no_events_choice_as_national() -> None:
    assert records.draft_no_events_choice("nearest") == WhenNoEvents.nearest
    assert records.draft_no_events_choice("text") == WhenNoEvents.text
    assert records.draft_no_events_choice("") == WhenNoEvents.national
    assert records.draft_no_events_choice("everywhere") == WhenNoEvents.national
