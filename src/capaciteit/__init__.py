"""capaciteit: capacity planning for Dutch youth care with accommodation.

The package follows one direction of flow::

    model files -> validate -> simulate -> optimise -> report / serve

``capaciteit.io`` reads a region model and scenario files, ``capaciteit.checks`` refuses
invalid input with every problem listed, ``capaciteit.simulation`` runs the SimPy flow
simulation and ``capaciteit.results`` turns its stays into KPIs, tables and charts.
"""

from capaciteit.errors import CapaciteitError, InvalidInputError, Problem

__all__ = ["CapaciteitError", "InvalidInputError", "Problem", "__version__"]
__version__ = "0.1.0"
