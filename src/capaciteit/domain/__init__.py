"""Domain objects: the region model and the scenario, as tables keyed by stable ids."""
