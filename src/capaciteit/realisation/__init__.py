"""Realisation: quarterly actuals per provider and care form against the agreed plan.

Every quarter an ontwikkeltafel asks: *are we on course?* The agreed afbouw plan says how
many places each provider has per care form and year; the providers report what really
happened (places, occupied places, instroom, waiting list); and the model, simulated with
exactly the plan's places, says how much such a quarter varies by chance. A quarter is on
course when what happened lies inside that variation and the places follow the plan.

The steps, one module each:

:mod:`.quarters`
    quarters as ``2025-K1`` and as windows of simulated days;
:mod:`.plan`
    the agreed plan (``plan.csv`` of ``capaciteit afbouw``) read and checked, and turned
    into the simulation's capacity;
:mod:`.template`, :mod:`.reader`
    the workbook providers fill in, and reading it back with every problem listed;
:mod:`.band`
    the simulated 95% prediction band per care form and quarter;
:mod:`.compare`
    the verdict per care form and quarter (and per provider for the places), with reasons;
:mod:`.charts`, :mod:`.workbook`, :mod:`.pdf`, :mod:`.report`
    fan charts, the workbook and the quarterly PDF for the ontwikkeltafel.

The use case that runs them in order is
:func:`capaciteit.pipelines.realisation.realisation_report`.
"""
