"""The team's dashboard: server-rendered French pages under ``/admin`` over the library.

:func:`campaign.dashboard.app.create_dashboard` builds the sub-application; the public web app
mounts it. Users, their roles and their sessions are the :mod:`campaign.users` stage's (also
called by ``campaign users …``): the dashboard only parses the forms and words what it says.
"""
