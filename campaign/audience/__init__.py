"""Subscribers, lists, the consent log, imports and exports, RGPD export and erasure."""
