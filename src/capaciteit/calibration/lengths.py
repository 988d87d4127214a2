"""Lengths of stay: Kaplan-Meier, parametric fits by AIC, and providers' own means.

Stays are right-censored (still going on at the extract date, or ended by the age limit:
the stay would have gone on) and left-truncated (begun before the window: only stays that
lasted until the window are in the extract, so each enters the risk set at its elapsed
time). ``lifelines`` does the survival analysis: the Kaplan-Meier curve without assuming a
shape, and exponential, lognormal and Weibull fits by maximum likelihood, the lowest AIC
written. A provider with enough stays gets its own mean with the form's family and shape
(:class:`ScaleFitter`), the model's ``los_provider.csv`` semantics.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd.scipy.stats import norm
from lifelines import ExponentialFitter, KaplanMeierFitter, LogNormalFitter, WeibullFitter
from lifelines.exceptions import StatError, StatisticalWarning
from lifelines.fitters import ParametricUnivariateFitter
from scipy import stats
from scipy.special import gamma as gamma_fn

from capaciteit.calibration.figures import add_row
from capaciteit.core import nl
from capaciteit.domain.model import RegionModel

FAMILIES = ("exponential", "lognormal", "weibull")
"""Families fitted to the lengths of stay; the lowest AIC is written."""
FAMILY_NL = {"exponential": "exponentieel", "lognormal": "lognormaal", "weibull": "Weibull"}
MIN_STAYS = 30
"""Fewest stays (with :data:`MIN_ENDED` ended) for a length-of-stay fit of a form/provider."""
MIN_ENDED = 10
DRAWS = 4000
"""Parameter draws for the interval of a mean stay."""


# --- lengths of stay ---------------------------------------------------------------------


def _family_moments(family: str, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and cv of a lifelines fit, for parameter rows ``params`` (draws x params)."""
    if family == "exponential":
        mean = params[:, 0]
        return mean, np.ones_like(mean)
    if family == "lognormal":
        mu, sigma = params[:, 0], np.abs(params[:, 1])
        return np.exp(mu + sigma**2 / 2), np.sqrt(np.expm1(sigma**2))
    lam, rho = params[:, 0], np.abs(params[:, 1])
    g1, g2 = gamma_fn(1 + 1 / rho), gamma_fn(1 + 2 / rho)
    return lam * g1, np.sqrt(np.maximum(g2 / g1**2 - 1, 0.0))


class ScaleFitter(ParametricUnivariateFitter):  # type: ignore[misc]
    """A family with its shape fixed, fitting only the scale: a provider within its form.

    ``los_provider.csv`` gives a provider its own mean with the form's distribution and cv,
    so a provider's stays are fitted with the form's shape (lognormal sigma, Weibull rho)
    and one free parameter, the log of the scale. A lifelines custom fitter: the
    cumulative hazard is all lifelines needs for censored and truncated likelihoods.
    """

    _fitted_parameter_names: ClassVar[list[str]] = ["log_scale_"]

    def __init__(self, family: str, shape: float) -> None:
        self.family, self.shape = family, shape
        super().__init__()

    def _cumulative_hazard(self, params: Any, times: Any) -> Any:
        (log_scale,) = params
        if self.family == "lognormal":
            return -norm.logsf((anp.log(times) - log_scale) / self.shape)
        if self.family == "weibull":
            return (times / anp.exp(log_scale)) ** self.shape
        return times / anp.exp(log_scale)

    def mean_days(self, log_scale: float) -> float:
        """Return the mean stay for a log scale (monotone in it)."""
        scale = math.exp(log_scale)
        if self.family == "lognormal":
            return scale * math.exp(self.shape**2 / 2)
        if self.family == "weibull":
            return scale * math.gamma(1 + 1 / self.shape)
        return scale


FITTERS = {"exponential": ExponentialFitter, "lognormal": LogNormalFitter, "weibull": WeibullFitter}


def _fit(family: str, mine: pd.DataFrame) -> Any:
    """Fit ``family`` by maximum likelihood to the (censored, truncated) stays ``mine``."""
    fitter = FITTERS[family]()
    with warnings.catch_warnings():
        # lifelines warns on stderr when a variance is not usable; the interval then says
        # so itself (no interval, see _mean_interval), in Dutch, in the estimates
        warnings.simplefilter("ignore", StatisticalWarning)
        return fitter.fit(
            mine["days"].to_numpy(),
            event_observed=mine["event"].to_numpy(),
            entry=mine["entry_days"].to_numpy(),
        )


def _mean_interval(
    fit: Any, family: str, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Mean, its 95% interval (from the fit's asymptotic normal parameters) and the cv."""
    params = np.asarray(fit.params_, dtype=np.float64)
    cov = np.asarray(fit.variance_matrix_, dtype=np.float64)
    mean, cv = _family_moments(family, params[None, :])
    if not np.isfinite(cov).all() or (np.diag(cov) <= 0).any():
        # the likelihood is flat or degenerate (e.g. every stay equally long): no interval
        return float(mean[0]), math.nan, math.nan, float(cv[0])
    try:
        draws = rng.multivariate_normal(params, cov, size=DRAWS, method="cholesky")
    except np.linalg.LinAlgError:
        draws = rng.multivariate_normal(params, cov, size=DRAWS, method="eigh")
    sampled, _ = _family_moments(family, draws)
    low, high = np.nanquantile(sampled, [0.025, 0.975])
    return float(mean[0]), float(low), float(high), float(cv[0])


def _form_rng(seed: int | np.random.SeedSequence, form: str) -> np.random.Generator:
    """Return a generator for one form: the seed's entropy and the form's id together."""
    entropy = seed.entropy if isinstance(seed, np.random.SeedSequence) else seed
    assert entropy is not None
    key = [int(b) for b in form.encode("utf-8")]
    return np.random.default_rng(np.random.SeedSequence([*np.atleast_1d(entropy), *key]))


def estimate_lengths(
    stays: pd.DataFrame,
    forms: list[str],
    base: RegionModel | None,
    seed: int | np.random.SeedSequence,
    rows: list[dict[str, object]],
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit every form's stays; return los, los_provider, the fits and the curves.

    Each form draws the parameters behind its interval from its own stream (the seed and
    the form's id), so a form's interval does not depend on which forms come before it.
    """
    los: list[dict[str, object]] = []
    per_provider: list[dict[str, object]] = []
    fits: list[dict[str, object]] = []
    curves: list[pd.DataFrame] = []
    usable = stays[stays["in_window"]]
    for form in forms:
        mine = usable[usable["care_form"] == form]
        n, events = len(mine), int(mine["event"].sum())
        if n < MIN_STAYS or events < MIN_ENDED:
            note = (
                f"te weinig verblijven ({n}, waarvan {events} afgesloten; minstens "
                f"{MIN_STAYS} en {MIN_ENDED} nodig)"
            )
            los.append(_fallback_los(form, base, mine, note, rows, notes))
            continue
        fitted = {family: _fit(family, mine) for family in FAMILIES}
        aics = {f: float(fit.AIC_) for f, fit in fitted.items()}
        chosen = min(aics, key=lambda f: aics[f])
        for family, fit in fitted.items():
            means, cvs = _family_moments(family, np.asarray(fit.params_, dtype=np.float64)[None, :])
            fits.append(
                {
                    "care_form": form,
                    "family": family,
                    "aic": aics[family],
                    "mean_days": float(means[0]),
                    "cv": float(cvs[0]),
                    "chosen": family == chosen,
                    "n": n,
                    "events": events,
                }
            )
        mean, low, high, cv = _mean_interval(fitted[chosen], chosen, _form_rng(seed, form))
        note = f"{FAMILY_NL[chosen]} (laagste AIC)"
        add_row(rows, "los_mean", form, "", mean, low, high, n, note)
        add_row(rows, "los_cv", form, "", cv, math.nan, math.nan, n, note)
        los.append(
            {
                "care_form": form,
                "distribution": chosen,
                "mean_days": round(mean, 2),
                "cv": "" if chosen == "exponential" else round(cv, 4),
            }
        )
        curve = _survival(form, mine, fitted[chosen], notes)
        if curve is not None:
            curves.append(curve)
        params = np.asarray(fitted[chosen].params_, dtype=np.float64)
        shape = 1.0 if chosen == "exponential" else float(params[1])
        per_provider += _provider_means(form, mine, chosen, shape, rows)
    return (
        pd.DataFrame(los, columns=["care_form", "distribution", "mean_days", "cv"]),
        pd.DataFrame(per_provider, columns=["provider", "care_form", "mean_days"]),
        pd.DataFrame(
            fits,
            columns=["care_form", "family", "aic", "mean_days", "cv", "chosen", "n", "events"],
        ),
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["care_form", "days", "survival", "low", "high", "fitted"]),
    )


def _fallback_los(
    form: str,
    base: RegionModel | None,
    mine: pd.DataFrame,
    note: str,
    rows: list[dict[str, object]],
    notes: list[str],
) -> dict[str, object]:
    """Return the stay of a form with too few stays: the base model's, else exponential."""
    n = len(mine)
    if base is not None and form in base.los.index:
        row = base.los.loc[form]
        mean = base.form_mean_los_days(form)
        # the value the model uses is written, without an interval: it was not estimated
        add_row(rows, "los_mean", form, "", mean, math.nan, math.nan, n, f"{note}; uit basismodel")
        notes.append(f"{form}: verblijfsduur {note}; overgenomen uit het basismodel.")
        dist = str(row["distribution"])
        if dist == "empirical":
            dist, cv = "exponential", ""
        else:
            cv = "" if pd.isna(row["cv"]) else float(row["cv"])
        return {"care_form": form, "distribution": dist, "mean_days": mean, "cv": cv}
    # the exponential maximum-likelihood mean: time at risk over ended stays
    at_risk = float((mine["days"] - mine["entry_days"]).clip(lower=0).sum())
    events = int(mine["event"].sum())
    mean = at_risk / events if events else max(at_risk, 1.0)
    add_row(rows, "los_mean", form, "", mean, math.nan, math.nan, n, f"{note}; aanname")
    notes.append(
        f"{form}: verblijfsduur {note}; aangenomen exponentieel met gemiddeld "
        f"{nl.number(mean)} dagen (tijd in zorg gedeeld door afgesloten verblijven)."
    )
    return {"care_form": form, "distribution": "exponential", "mean_days": round(mean, 2), "cv": ""}


def _survival(form: str, mine: pd.DataFrame, fit: Any, notes: list[str]) -> pd.DataFrame | None:
    """Return the Kaplan-Meier curve of a form with its band and the fit; None without one.

    Without a curve: when, early on, no stay is in view at all (stays begun long before the
    window, one after the other), the product-limit falls to 0 at the first ending and says
    nothing after it; lifelines refuses it, and the note says so.
    """
    try:
        # a stay begun e days before the window is in the extract when it lasted e days or
        # more (it may end on the window's first day), so it is at risk at e; lifelines
        # counts an entrant only after its entry time: it enters half a day earlier
        km = KaplanMeierFitter().fit(
            mine["days"].to_numpy(),
            event_observed=mine["event"].to_numpy(),
            entry=np.maximum(mine["entry_days"].to_numpy() - 0.5, 0.0),
        )
    except StatError:
        notes.append(
            f"{form}: geen Kaplan-Meiercurve: een tijd lang was geen enkel verblijf in beeld "
            "(verblijven die lang voor het venster begonnen, na elkaar); de gekozen verdeling "
            "is niet tegen de verblijven te zien."
        )
        return None
    curve = km.survival_function_.iloc[:, 0]
    band = km.confidence_interval_survival_function_
    days = curve.index.to_numpy(dtype=float)
    # a chart needs a few hundred points, not one per distinct day of 100 000 stays
    keep = np.unique(np.linspace(0, len(days) - 1, min(len(days), 400)).round().astype(int))
    fitted = fit.survival_function_at_times(days[keep])
    return pd.DataFrame(
        {
            "care_form": form,
            "days": days[keep],
            "survival": curve.to_numpy()[keep],
            "low": band.iloc[:, 0].to_numpy()[keep],
            "high": band.iloc[:, 1].to_numpy()[keep],
            "fitted": np.asarray(fitted, dtype=float),
        }
    )


def _provider_means(
    form: str,
    mine: pd.DataFrame,
    family: str,
    shape: float,
    rows: list[dict[str, object]],
) -> list[dict[str, object]]:
    """Estimate a provider's own mean stay where it has enough stays (among others).

    The form's family and shape, the provider's own scale (:class:`ScaleFitter`); the 95%
    interval of the mean follows from the log scale's (the mean is monotone in it).
    """
    providers = sorted(mine["provider"].unique())
    if len(providers) < 2:
        return []
    out: list[dict[str, object]] = []
    z = float(stats.norm.ppf(0.975))
    for provider in providers:
        theirs = mine[mine["provider"] == provider]
        n, events = len(theirs), int(theirs["event"].sum())
        if n < MIN_STAYS or events < MIN_ENDED:
            add_row(
                rows,
                "los_provider_mean",
                form,
                provider,
                math.nan,
                math.nan,
                math.nan,
                n,
                f"te weinig verblijven ({n}, {events} afgesloten): het gemiddelde van de vorm",
            )
            continue
        fitter = ScaleFitter(family, shape)
        start = np.array([math.log(float(np.median(theirs["days"])))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)  # an unusable variance: no interval
            fitter.fit(
                theirs["days"].to_numpy(),
                event_observed=theirs["event"].to_numpy(),
                entry=theirs["entry_days"].to_numpy(),
                initial_point=start,
            )
        log_scale = float(fitter.params_.iloc[0])
        variance = float(fitter.variance_matrix_.iloc[0, 0])
        se = math.sqrt(variance) if variance > 0 else math.nan  # NaN: no interval
        mean = fitter.mean_days(log_scale)
        low, high = fitter.mean_days(log_scale - z * se), fitter.mean_days(log_scale + z * se)
        add_row(rows, "los_provider_mean", form, provider, mean, low, high, n)
        out.append({"provider": provider, "care_form": form, "mean_days": round(mean, 2)})
    return out


__all__ = ["FAMILIES", "MIN_ENDED", "MIN_STAYS", "ScaleFitter", "estimate_lengths"]
