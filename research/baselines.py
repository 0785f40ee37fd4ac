"""Statistical baselines the model is compared with, fitted by maximum likelihood with SciPy.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"), for buying without
  a contract: while alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha)
  (per week), and after each purchase drops out for good with chance p ~ Beta(a, b).
- Shifted-beta-geometric (Fader & Hardie 2007, "How to project customer retention"), for
  subscriptions: each period a subscriber cancels with chance theta ~ Beta(a, b).
- Kaplan-Meier, the model-free survival curve a subscription forecast is checked against.

Why these: they are the standard, published, few-parameter models of the same data, so they set
the bar an agent-based model has to clear before its extra mechanisms mean anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

QUADRATURE_NODES = 64  # Gauss-Jacobi nodes for expectations over p ~ Beta(a, b)


def _fit(negative_loglik: Callable[[np.ndarray], float], start: np.ndarray) -> list[float]:
    """Minimise a negative log-likelihood over log-parameters (all parameters are positive)."""
    result = optimize.minimize(lambda z: negative_loglik(np.exp(z)), np.log(start), method="Nelder-Mead",
                               options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20_000, "maxfev": 20_000})
    return [float(v) for v in np.exp(result.x)]


@dataclass(frozen=True)
class BGNBD:
    """A fitted BG/NBD model; time in weeks since the customer's first purchase."""

    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
               count: np.ndarray | None = None) -> float:
        """Log-likelihood (FHL 2005, eq. 6) of customers with x repeat purchases, the last at t_x, of age T.

        `count` customers share each row (default 1).
        """
        r, alpha, a, b = params
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        alive = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
        dead = np.where(x > 0, special.betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - special.betaln(a, b)
                        - (r + x) * np.log(alpha + t_x), -np.inf)
        each = common + np.logaddexp(alive, dead)
        return float(np.sum(each if count is None else count * each))

    @classmethod
    def fit(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BGNBD:
        """Maximum-likelihood estimates from each customer's (x, t_x, T); identical customers are evaluated once."""
        rows, count = np.unique(np.column_stack([x, t_x, T]).astype(float), axis=0, return_counts=True)
        x, t_x, T = rows.T

        def negative(q: np.ndarray) -> float:
            return -cls.loglik(q, x, t_x, T, count)

        return cls(*_fit(negative, np.array([1.0, max(float(np.mean(T)), 1.0), 1.0, 1.0])))

    @property
    def params(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b])

    def expected(self, t: np.ndarray) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in the first t weeks after the first purchase (FHL eq. 9)."""
        t = np.maximum(np.asarray(t, dtype=float), 0)
        r, alpha, a, b = self.params
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def p_active(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Chance of at least one purchase between weeks `start` and `end` after the first purchase.

        Given lambda and p, a customer is still alive at s with chance exp(-lambda p s) (each purchase
        ends the relationship with chance p) and then buys within tau = end - s with chance
        1 - exp(-lambda tau); integrating lambda gives (alpha/(alpha+ps))^r - (alpha/(alpha+ps+tau))^r,
        and p is integrated by Gauss-Jacobi quadrature.
        """
        s = np.maximum(np.asarray(start, dtype=float), 0)[..., None]
        tau = np.maximum(np.asarray(end, dtype=float)[..., None] - s, 0)
        p, w = _beta_quadrature(self.a, self.b)
        ps = p * s
        inner = (self.alpha / (self.alpha + ps)) ** self.r - (self.alpha / (self.alpha + ps + tau)) ** self.r
        return inner @ w

    def simulate(self, T: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw (x, t_x) for customers of ages T weeks: the data the model assumes, for recovery checks."""
        T = np.asarray(T, dtype=float)
        lam = rng.gamma(self.r, 1 / self.alpha, len(T))
        p = rng.beta(self.a, self.b, len(T))
        x, t_x = np.zeros(len(T), dtype=int), np.zeros(len(T))
        for i in range(len(T)):
            t = 0.0
            while True:
                t += rng.exponential(1 / lam[i])
                if t > T[i]:
                    break
                x[i], t_x[i] = x[i] + 1, t
                if rng.random() < p[i]:
                    break
        return x, t_x


def _beta_quadrature(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes p in (0, 1) and weights summing to 1 for expectations over p ~ Beta(a, b)."""
    x, w = special.roots_jacobi(QUADRATURE_NODES, b - 1, a - 1)  # weight (1-x)^(b-1) (1+x)^(a-1) on [-1, 1]
    return (1 + x) / 2, w / w.sum()


@dataclass(frozen=True)
class ShiftedBetaGeometric:
    """A fitted shifted-beta-geometric model; time in periods (months, years) since the subscription began."""

    a: float
    b: float

    @staticmethod
    def loglik(params: np.ndarray, periods: np.ndarray, churned: np.ndarray, weight: np.ndarray | None = None) -> float:
        """Log-likelihood of subscribers who cancelled in period t (P(T=t)) or were still there after t (S(t))."""
        a, b = params
        t = np.asarray(periods, dtype=float)
        weight = np.ones_like(t) if weight is None else np.asarray(weight, dtype=float)
        cancelled = special.betaln(a + 1, b + t - 1) - special.betaln(a, b)
        survived = special.betaln(a, b + t) - special.betaln(a, b)
        return float(np.sum(weight * np.where(churned, cancelled, survived)))

    @classmethod
    def fit(cls, periods: np.ndarray, churned: np.ndarray, weight: np.ndarray | None = None) -> ShiftedBetaGeometric:
        """Maximum-likelihood estimates from each subscriber's periods and whether it cancelled (right-censored)."""
        if np.any(np.asarray(periods)[np.asarray(churned, dtype=bool)] < 1):
            raise ValueError("a cancellation happens in period 1 or later")
        return cls(*_fit(lambda q: -cls.loglik(q, periods, churned, weight), np.array([1.0, 1.0])))

    @classmethod
    def fit_survival(cls, survival: np.ndarray) -> ShiftedBetaGeometric:
        """Fit to a cohort's survival curve S(0)=100%, S(1), ... (shares or counts), as Fader & Hardie (2007) do."""
        s = np.asarray(survival, dtype=float)
        last = len(s) - 1
        periods = np.concatenate([np.arange(1, last + 1), [last]])
        churned = np.concatenate([np.ones(last, dtype=bool), [False]])
        return cls.fit(periods, churned, np.concatenate([s[:-1] - s[1:], [s[-1]]]))

    def survival(self, t: np.ndarray) -> np.ndarray:
        """S(t): share of a cohort still subscribed after t periods."""
        return np.exp(special.betaln(self.a, self.b + np.asarray(t, dtype=float)) - special.betaln(self.a, self.b))

    def simulate(self, n: int, horizon: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw n subscribers observed for `horizon` periods: (periods, churned)."""
        lifetime = rng.geometric(rng.beta(self.a, self.b, n))
        return np.minimum(lifetime, horizon), lifetime <= horizon


def kaplan_meier(periods: np.ndarray, churned: np.ndarray, horizon: int) -> np.ndarray:
    """Kaplan-Meier survival S(0..horizon) of right-censored subscribers (churned in period t, or observed t)."""
    periods, churned = np.asarray(periods), np.asarray(churned, dtype=bool)
    s, out = 1.0, [1.0]
    for t in range(1, horizon + 1):
        at_risk = np.sum(periods >= t)
        s *= 1 - np.sum((periods == t) & churned) / at_risk if at_risk else 1.0
        out.append(s)
    return np.array(out)
