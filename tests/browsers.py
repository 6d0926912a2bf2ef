"""Where the browser tests find Chromium, and what they do without it."""

from __future__ import annotations

import os

import pytest


def no_browser(reason: str) -> None:
    """Skip a browser test for want of Chromium (a laptop), or fail it where a browser is
    required (CI sets ``CAMPAIGN_REQUIRE_BROWSER=1``), so a missing browser never hides a test."""
    if os.environ.get("CAMPAIGN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_BROWSER=1: the browser tests must run here)")
    pytest.skip(reason)
