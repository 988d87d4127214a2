"""Several regions together: pools shared across regions and the national picture.

JeugdzorgPlus and specialist residential care are bought *bovenregionaal*: several
jeugdregio's share the providers, one waiting list and the costs (a verdeelsleutel). A
:class:`~capaciteit.national.model.NationalModel` names the region models and the pools
they share; :mod:`~capaciteit.national.compose` turns each group of regions linked by pools
into one simulation; :mod:`~capaciteit.national.run` runs the groups' replications as
tasks on an executor and aggregates them as they arrive; :mod:`~capaciteit.national.results`
splits what came out per region, per pool (with its costs under the key) and nationally.
"""
