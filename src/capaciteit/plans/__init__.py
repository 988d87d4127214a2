"""Afbouw plans as data: versions an ontwikkeltafel reviews, checks of edited plans, diffs."""
