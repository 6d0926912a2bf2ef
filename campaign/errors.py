"""The one exception users may see: a message saying what is wrong and what to do.

The CLI prints it without a traceback; anything else that escapes is a bug and is reported as one.
"""


class CampaignError(Exception):
    """An error the user can fix; ``str(error)`` is the whole message."""


class TemporaryError(CampaignError):
    """A fault that passes (the database away for a while): the same command will work later.

    The CLI exits with status 75 (``EX_TEMPFAIL``), which cron wrappers, service managers and
    mail servers read as "try again later".
    """
