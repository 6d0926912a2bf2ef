"""The sections of the settings, one module a group; :mod:`campaign.config` assembles them."""
