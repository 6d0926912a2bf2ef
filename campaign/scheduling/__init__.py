"""The scheduler service and the campaign calendars (``schedules/*.toml``).

The pieces, left to right:

- :mod:`.calendar` reads a calendar file and checks it, every problem naming file, line and key;
  :mod:`.timing` turns its local times into UTC and refuses the ones a change of time makes
  ambiguous or impossible.
- :mod:`.sync` makes the database match the files: newsletters, posts and recurring jobs are
  rows with a ``schedule_key``; what already went out is never touched.
- :mod:`.jobs` arms one APScheduler job per scheduled row (rows are the truth; the job store only
  says "fire this at that time") and marks rows ``missed`` when their time passed unseen;
  :mod:`.actions` is what a job does, a thin call into the sending and posting stages.
- :mod:`.service` runs it all: a leader (:mod:`.leader`) runs the scheduler, every process runs
  a send worker (:mod:`.worker`).
"""
