"""Tracking: signed tokens, link rewriting, hit recording and classification."""
