"""The team's dashboard: server-rendered French pages under ``/admin`` over the library.

:func:`campaign.dashboard.app.create_dashboard` builds the sub-application; the public web app
mounts it. Users and their sessions are managed by :mod:`campaign.dashboard.users` and
:mod:`campaign.dashboard.sessions` (also used by ``campaign users …``), which import no web code.
"""
