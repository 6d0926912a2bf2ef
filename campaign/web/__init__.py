"""The web service: the public routes emails link to and the subscribe form (FastAPI).

The app is imported from :mod:`campaign.web.app`; this package imports nothing itself, so a
stage that only needs a rule of :mod:`campaign.audience.subscriptions` (bounce processing, the CLI)
does not load FastAPI and the dashboard.
"""
