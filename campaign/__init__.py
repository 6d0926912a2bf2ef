"""campaign: newsletters and timed social posts for the Mois de l'ESS and the Prix ESS."""

__version__ = "0.1.0"
