"""Calibration: a region model estimated from stay records, and a backtest of it.

Idea
----
A region model is a handful of rates and shares: referrals per care form and year
(instroom), where young people go after a stay (routing), how long stays last, how old
children are when they come in, and how many beds are occupied on the peildatum. Regions
register every start and stop of care, so each of these numbers can be *estimated* from
the records instead of typed in, with an interval that says how sure the estimate is and
the number of records it rests on.

``records -> estimate -> model files``
    :func:`~capaciteit.calibration.estimate.calibrate` turns validated
    :class:`~capaciteit.io.records.StayRecords` into a :class:`Calibration`: the model's
    tables and a long table of estimates (each with its 95% interval, sample size and a
    note when there were too few records). Lengths of stay are right-censored (stays still
    going on at the extract date) and left-truncated (stays that began before the
    observation window): the Kaplan-Meier estimator and parametric fits by maximum
    likelihood come from ``lifelines``; the family with the lowest AIC is written.
``model -> backtest``
    :func:`~capaciteit.calibration.backtest.backtest` calibrates on the records up to a
    day T, simulates the following quarters from the real occupants at T (their stays
    conditional on the time already spent) and compares the prediction bands with what
    the records show happened.

Nothing is silently filled: an estimate that rests on too few records is left out with a
note, and a number that cannot come from records at all (waiting policy, tariffs) is taken
from a base model or marked as an assumption.
"""
