"""Optimisation models fed and verified by the simulation: minimal beds (and later afbouw)."""
