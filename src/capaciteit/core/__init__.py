"""Shared building blocks every stage may import: Dutch text and statistics.

Nothing here imports from the stages above it (io, domain, simulation, optimisation,
matching, results, service).
"""
