"""Realisation: quarterly actuals per provider and care form against the agreed plan."""
