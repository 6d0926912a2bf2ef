"""The web service: the public routes emails link to and the subscribe form (FastAPI)."""

from campaign.web.app import Companion, create_app

__all__ = ["Companion", "create_app"]
