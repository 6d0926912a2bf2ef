"""How long the scheduler's jobs take, kept in this process for ``GET /metrics``."""

from __future__ import annotations

from prometheus_client import Histogram

JOB_SECONDS = Histogram(
    "campaign_job_duration_seconds",
    "Time the scheduler's jobs took in this process, by kind (newsletter, post, recurring).",
    ["kind"],
    registry=None,  # registered in each service's registry (campaign.operations)
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf")),
)


def observe_job(job_id: str, seconds: float) -> None:
    """Record how long job ``job_id`` (``kind:…``) took."""
    JOB_SECONDS.labels(job_id.split(":", 1)[0]).observe(seconds)
