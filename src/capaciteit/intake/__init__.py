"""Intake: the 0-meting collected from the providers, location by location.

Idea
----
The 0-meting is the baseline count the region's agreements rest on: how many beds each
provider has per care form, how many are occupied, and how many young people wait, all on
one day, the *peildatum*. Only the providers know these numbers, and they know them per
location (a group home, a treatment group, a foster care team), not per region. So the
region sends every provider the same workbook, each provider counts its own locations on
the peildatum, and the region adds the rows up to ``beds.csv`` of the region model:

``template -> providers fill in -> intake -> beds.csv``

Like a census form: everyone counts on the same day, with the same definitions, on a form
that checks as they type; the office checks every form again and sends back a list of what
to correct, rather than correcting it itself.

The steps, one module each:

:mod:`.template`
    the workbook (``capaciteit sjabloon 0-meting``): instructions in Dutch, a row per
    location and care form with bedden, bezet and wachtend, data validation, and a hidden
    sheet that says which template and version it is, the peildatum and the care forms;
:mod:`.reader`
    reading filled-in workbooks back (within the limits of
    :mod:`capaciteit.io.workbooks`), with every problem of every row and file;
:mod:`.merge`
    adding the locations up per provider and care form, the checks across files (the
    same location twice, different peildata, a region model the result must fit), and
    writing ``beds.csv`` and ``locaties.csv``.

Per provider and care form, ``beds``, ``occupied`` and ``waiting`` in ``beds.csv`` are the
sums over its locations. Nothing is silently fixed: spaces around codes are trimmed, any
other doubt is a problem (refused, with the file, row and fix) or a warning (written, and
said). More young people than beds at one location is a warning (it happens while beds are
phased out: a young person stays until a place elsewhere is free); over all locations of a
provider and care form it is refused, because the region model does not take a 0-meting
with more occupied than available places.
"""
