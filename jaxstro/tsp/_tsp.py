"""Tangent space projection for a batch of targets: kNN -> local PCA -> imputation -> filter."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ._basis import GramEigh, PCAMethod, local_basis
from ._feature import Feature
from ._filter import is_line, matched_filter
from ._impute import impute
from ._neighbours import knn

# per-target status bits (0 = clean)
FLAG_NONFINITE_INPUT = 1  # NaN/inf flux or ivar, or ivar < 0: those pixels were set to f=1, ivar=0
FLAG_FEW_PIXELS = 2  # fewer than config.min_pixels usable pixels outside the mask
FLAG_NO_FEATURE_IVAR = 4  # no masked pixel has ivar > 0: the filter is undefined
FLAG_FEW_NEIGHBOURS = 8  # fewer than k admissible reference spectra
FLAG_BAD_FIT = 16  # the projection gave a non-finite prediction (singular normal equations)
FATAL_FLAGS = FLAG_FEW_PIXELS | FLAG_NO_FEATURE_IVAR | FLAG_FEW_NEIGHBOURS | FLAG_BAD_FIT
FLAG_NAMES = {
    FLAG_NONFINITE_INPUT: "nonfinite_input",
    FLAG_FEW_PIXELS: "few_pixels",
    FLAG_NO_FEATURE_IVAR: "no_feature_ivar",
    FLAG_FEW_NEIGHBOURS: "few_neighbours",
    FLAG_BAD_FIT: "bad_fit",
}


class TSPConfig(eqx.Module):
    """Hyper-parameters and batching of TSP.

    Attributes:
        k: neighbours. q: subspace dimension (q < k). pca: :class:`GramEigh` or
        :class:`RandomizedPCA`. block_size: reference spectra per kNN distance block.
        search_dtype: dtype of the kNN candidate search (float32 default; candidates are then
        re-ranked exactly in the input dtype, see :func:`knn`; None = input dtype throughout).
        batch_size: targets whose k x n_pix neighbour stacks are in memory at once.
        min_pixels: fewest usable (ivar > 0) unmasked pixels for a target to be fitted.
        include_prediction_variance: add the prediction variance to the residual variance in the
        filter (ch3 neglects it).
    """

    k: int = eqx.field(static=True, default=1000)
    q: int = eqx.field(static=True, default=50)
    pca: PCAMethod = GramEigh()
    block_size: int = eqx.field(static=True, default=32768)
    search_dtype: str | None = eqx.field(static=True, default="float32")
    batch_size: int = eqx.field(static=True, default=8)
    min_pixels: int = eqx.field(static=True, default=100)
    include_prediction_variance: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not (0 < self.q < self.k):
            raise ValueError(f"need 0 < q < k, got k={self.k}, q={self.q}")
        if self.block_size < 1 or self.batch_size < 1:
            raise ValueError("block_size and batch_size must be >= 1")


class TSPResult(eqx.Module):
    """Per-target TSP output (leading axis = targets); m masked pixels, M filter models."""

    pred: Float[Array, "n m"]  # predicted normalised flux of the masked pixels
    pred_var: Float[Array, "n m"]  # variance of the prediction (basis held fixed)
    resid: Float[Array, "n m"]  # measured - predicted
    resid_ivar: Float[Array, "n m"]  # inverse variance used in the filter
    alpha: Float[Array, "n M"]  # best amplitude of each model (line model: EEW in Å)
    sigma: Float[Array, "n M"]  # its uncertainty
    loglike: Float[Array, "n M"]  # log-likelihood gain of each model (eq 3.5)
    eew: Float[Array, " n"]  # excess equivalent width [Å]
    eew_err: Float[Array, " n"]  # its uncertainty [Å]
    isline: Bool[Array, " n"]  # line model preferred over every contaminant model
    chi2: Float[Array, " n"]  # chi^2 per used pixel of the fit outside the mask
    nn_dist: Float[Array, " n"]  # distance to the nearest admissible neighbour
    flags: Int[Array, " n"]  # status bits (FLAG_*)


def sanitize(
    flux: Float[Array, "n n_pix"], ivar: Float[Array, "n n_pix"]
) -> tuple[Array, Array, Array]:
    """NaN/inf flux or ivar, ivar < 0 -> f = 1, ivar = 0 (ch3 bad-pixel rule); per-row flag."""
    bad = ~jnp.isfinite(flux) | ~jnp.isfinite(ivar) | (ivar < 0)
    flux = jnp.where(bad, 1.0, flux)
    ivar = jnp.where(bad, 0.0, ivar)
    return flux, ivar, jnp.where(jnp.any(bad, axis=-1), FLAG_NONFINITE_INPUT, 0)


def reference_validity(
    reference_flux: np.ndarray, reference_ivar: np.ndarray | None, feature: Feature
) -> np.ndarray:
    """(n_ref,) True for reference spectra complete in the masked region (ch3 excludes the rest)."""
    f = np.asarray(reference_flux)[:, feature.masked_idx]
    ok = np.all(np.isfinite(f), axis=1)
    if reference_ivar is not None:
        iv = np.asarray(reference_ivar)[:, feature.masked_idx]
        ok &= np.all(np.isfinite(iv) & (iv > 0), axis=1)
    return ok


def _predict_one(flux, ivar, use, predict_idx, neighbours, models, q, pca, min_pixels, add_var):
    weight = ivar * use
    mean, basis, _ = local_basis(neighbours, q, pca)
    pred, pred_var, model = impute(flux, weight, mean, basis, predict_idx)
    resid = flux[predict_idx] - pred
    iv = ivar[predict_idx]
    if add_var:
        iv = jnp.where(iv > 0, 1.0 / (1.0 / jnp.where(iv > 0, iv, 1.0) + pred_var), 0.0)
    alpha, sigma, loglike = matched_filter(resid, iv, models)
    n_used = jnp.sum(weight > 0)
    chi2 = jnp.sum(weight * (flux - model) ** 2) / jnp.maximum(n_used, 1)
    flags = jnp.where(n_used < min_pixels, FLAG_FEW_PIXELS, 0)
    flags |= jnp.where(jnp.all(ivar[predict_idx] <= 0), FLAG_NO_FEATURE_IVAR, 0)
    flags |= jnp.where(jnp.all(jnp.isfinite(pred)), 0, FLAG_BAD_FIT)
    return pred, pred_var, resid, iv, alpha, sigma, loglike, chi2, flags


def tsp_batch(
    target_flux: Float[Array, "n n_pix"],
    target_ivar: Float[Array, "n n_pix"],
    reference_flux: Float[Array, "n_ref n_pix"],
    feature: Feature,
    config: TSPConfig,
    *,
    target_ids: Int[Array, " n"] | None = None,
    reference_ids: Int[Array, " n_ref"] | None = None,
    reference_valid: Bool[Array, " n_ref"] | None = None,
) -> TSPResult:
    """TSP for a batch of targets (jit-able; no Python loop over targets).

    Fluxes are continuum-normalised on the feature's grid. ``target_ids``/``reference_ids`` exclude
    a target from its own neighbourhood. Bad targets are flagged, never raised on.
    """
    flux, ivar, flags0 = sanitize(jnp.asarray(target_flux), jnp.asarray(target_ivar))
    ref = jnp.asarray(reference_flux)
    use = jnp.asarray(feature.use)
    d2, idx = knn(
        flux,
        ref,
        config.k,
        use=use,
        target_ids=target_ids,
        reference_ids=reference_ids,
        reference_valid=reference_valid,
        block_size=config.block_size,
        search_dtype=config.search_dtype,
    )
    few = ~jnp.all(idx >= 0, axis=1)
    idx = jnp.where(idx >= 0, idx, jnp.maximum(idx[:, :1], 0))  # repeat a valid slot; flagged
    usef = use.astype(flux.dtype)
    midx = jnp.asarray(feature.masked_idx)
    models = jnp.asarray(feature.models)

    def one(args):
        f, iv, ix = args
        return _predict_one(
            f,
            iv,
            usef,
            midx,
            ref[ix],
            models,
            config.q,
            config.pca,
            config.min_pixels,
            config.include_prediction_variance,
        )

    bs = min(config.batch_size, flux.shape[0])
    pred, pred_var, resid, riv, alpha, sigma, loglike, chi2, flags = jax.lax.map(
        one, (flux, ivar, idx), batch_size=bs
    )
    flags = flags | flags0 | jnp.where(few, FLAG_FEW_NEIGHBOURS, 0)
    return TSPResult(
        pred=pred,
        pred_var=pred_var,
        resid=resid,
        resid_ivar=riv,
        alpha=alpha,
        sigma=sigma,
        loglike=loglike,
        eew=alpha[:, 0],
        eew_err=sigma[:, 0],
        isline=is_line(loglike),
        chi2=chi2,
        nn_dist=jnp.sqrt(d2[:, 0]),
        flags=flags,
    )


def validate_inputs(
    target_flux: np.ndarray,
    target_ivar: np.ndarray,
    reference_flux: np.ndarray,
    feature: Feature,
    config: TSPConfig,
) -> None:
    """Boundary checks that are configuration errors (not per-target problems): raise ValueError."""
    n_pix = feature.wavelength.shape[0]
    tf, ti, rf = (np.shape(a) for a in (target_flux, target_ivar, reference_flux))
    if len(tf) != 2 or tf != ti:
        raise ValueError(f"target flux {tf} and ivar {ti} must be equal 2-D (n_targets, n_pix)")
    if tf[1] != n_pix:
        raise ValueError(f"targets have {tf[1]} pixels but the feature grid has {n_pix}")
    if len(rf) != 2 or rf[1] != n_pix:
        raise ValueError(f"reference set {rf} must be (n_ref, {n_pix})")
    if rf[0] < config.k:
        raise ValueError(f"reference set has {rf[0]} spectra, fewer than k={config.k}")
    if not np.all(np.isfinite(reference_flux)):
        raise ValueError("reference flux contains NaN/inf; apply the bad-pixel rule first (f=1)")


def tsp(
    target_flux: Float[Array, "n n_pix"],
    target_ivar: Float[Array, "n n_pix"],
    reference_flux: Float[Array, "n_ref n_pix"],
    feature: Feature,
    config: TSPConfig = TSPConfig(),
    *,
    target_ids: Int[Array, " n"] | None = None,
    reference_ids: Int[Array, " n_ref"] | None = None,
    reference_ivar: Float[Array, "n_ref n_pix"] | None = None,
) -> TSPResult:
    """Run TSP on targets against a reference set (validated, jitted entry point).

    Args:
        target_flux, target_ivar: (n, n_pix) continuum-normalised flux and inverse variance.
        reference_flux: (n_ref, n_pix) continuum-normalised reference spectra (finite).
        feature: the masked feature and its matched-filter models (:func:`li_feature`).
        config: k, q and batching.
        target_ids, reference_ids: identifiers used to exclude a target from its own neighbours.
        reference_ivar: if given, references with ivar = 0 in the masked region are not neighbours.
    """
    validate_inputs(target_flux, target_ivar, reference_flux, feature, config)
    valid = reference_validity(reference_flux, reference_ivar, feature)
    return _tsp_jit(
        jnp.asarray(target_flux),
        jnp.asarray(target_ivar),
        jnp.asarray(reference_flux),
        feature,
        config,
        None if target_ids is None else jnp.asarray(target_ids),
        None if reference_ids is None else jnp.asarray(reference_ids),
        jnp.asarray(valid),
    )


@eqx.filter_jit
def _tsp_jit(tf, ti, rf, feature, config, tid, rid, valid):
    return tsp_batch(
        tf, ti, rf, feature, config, target_ids=tid, reference_ids=rid, reference_valid=valid
    )
