"""``synthesize`` (continuum only): Turbospectrum comparison, gradients, vmap, bad input.

Reference for the continuum: stored Turbospectrum v20.1 output for the MARCS Sun
(``tests/synth/reference/continuum_marcs_sun.npz``, see the README there), run in pure LTE (S = B,
scattering counted as absorption, as here), GAS2007 abundances, plane-parallel. Tolerance: 1 %
over 4000-15000 Å (acceptance item 2; measured -0.47..+0.04 %). Below 4000 Å the difference is
reported and bounded at 2 % (measured -0.4..+1.5 %, largest at 3100 Å): metal bound-free and
CH/OH continua come from the same Uppsala tables as Turbospectrum's, and both codes dissolve the
H I series limits (occupation probabilities). Points Turbospectrum flagged
``near_hydrogen_edge`` are skipped.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth.synthesize import synthesize

REF = Path(__file__).parent / "reference"


@functools.lru_cache(maxsize=2)
def _continuum_data(hydrogen_bf: str):
    from jaxstro.synth.continuum import load_continuum_data

    return load_continuum_data(hydrogen_bf=hydrogen_bf)


def air_to_vacuum(wl_air):
    """Air -> vacuum wavelength [Å] (Morton 2000 / Ciddor refractive index of air)."""
    s2 = (1e4 / wl_air) ** 2
    return wl_air * (1 + 8.34254e-5 + 2.406147e-2 / (130 - s2) + 1.5998e-4 / (38.9 - s2))


@pytest.fixture(scope="module")
def sun():
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs

    return read_marcs(locate("marcs_sun")), format_abundances(0.0, mixture="grevesse2007")


def test_x64_and_bad_input(sun):
    atm, A = sun
    with pytest.raises(ValueError, match="increasing"):
        synthesize(atm, None, A, jnp.asarray([5000.0, 4000.0]))
    with pytest.raises(ValueError, match="92"):
        synthesize(atm, None, A[:10], jnp.asarray([5000.0]))
    with pytest.raises(ValueError, match="outside"):
        synthesize(atm, None, A, jnp.asarray([500.0, 5000.0]))


@pytest.mark.needs_data
def test_coarse_continuum_grid_matches_exact(sun):
    """The continuum computed on the 1 Å grid (``continuum_step=1.0``, the default) and
    interpolated equals the continuum computed at every pixel to 1e-4 relative (measured: 1.5e-6
    across the Balmer edge at 3647 Å, which the grid brackets, and 1.4e-5 at 5000-5100 Å), and a
    continuum-only spectrum keeps flux == continuum."""
    from jaxstro.synth.synthesize import _hydrogen_edges_angstrom, continuum_grid

    atm, A = sun
    wl = np.concatenate([3600.0 + 0.05 * np.arange(2001), 5000.0 + 0.05 * np.arange(2001)])
    g = continuum_grid(wl, 1.0)
    balmer = _hydrogen_edges_angstrom()[1]
    nodes = np.asarray(g.wavelengths)
    assert np.sum(np.abs(nodes - balmer) < 1e-4) == 2  # the edge bracketed
    assert nodes.size < 2000  # 1 Å steps + metal-table nodes
    exact = synthesize(atm, None, A, jnp.asarray(wl), continuum_step=None)
    coarse = synthesize(atm, None, A, jnp.asarray(wl))
    rel = np.abs(np.asarray(coarse.continuum) / np.asarray(exact.continuum) - 1)
    assert np.max(rel) < 1e-4
    np.testing.assert_array_equal(np.asarray(coarse.flux), np.asarray(coarse.continuum))
    assert continuum_grid(wl[::100], 1.0) is None  # grid not denser than 2 px per Å: exact


@pytest.mark.slow
@pytest.mark.needs_data
def test_solar_continuum_vs_turbospectrum(sun):
    atm, A = sun
    ref = np.load(REF / "continuum_marcs_sun.npz")
    wl_air = ref["wavelength"]
    sp = synthesize(atm, None, A, jnp.asarray(air_to_vacuum(wl_air)))
    r = np.asarray(sp.continuum) / ref["continuum_pure_lte"]
    ok = ~ref["near_hydrogen_edge"]
    red = ok & (wl_air >= 4000) & (wl_air <= 15000)
    np.testing.assert_allclose(r[red], 1.0, atol=0.01)
    uv = ok & (wl_air < 4000)
    print(f"ratio jaxstro/Turbospectrum < 4000 Å: min {r[uv].min():.4f} max {r[uv].max():.4f}")
    np.testing.assert_allclose(r[uv], 1.0, atol=0.02)
    np.testing.assert_array_equal(np.asarray(sp.normalized), 1.0)


@pytest.mark.slow
@pytest.mark.needs_data
def test_continuum_gradients_vs_finite_differences(sun):
    """d ln F_cont / d T_layer and d ln F_cont / d A(X) by autodiff (through chemical equilibrium,
    implicit-function theorem) vs central differences; 1e-5 relative (acceptance item 3), with an
    absolute floor of 1e-5 x the largest component for elements whose effect is negligible."""
    atm, A = sun
    wl = jnp.asarray([4500.0, 6500.0, 12000.0])

    def f_T(T):
        import equinox as eqx

        a = eqx.tree_at(lambda m: m.temperature, atm, T)
        return jnp.sum(jnp.log(synthesize(a, None, A, wl).continuum))

    def f_A(Ax):
        return jnp.sum(jnp.log(synthesize(atm, None, Ax, wl).continuum))

    vg_T = jax.jit(jax.value_and_grad(f_T))
    T0 = atm.temperature
    _, gT = vg_T(T0)
    assert np.all(np.isfinite(np.asarray(gT)))
    for k in (10, 30, 45):
        h = 1e-4 * float(T0[k])
        fp = vg_T(T0.at[k].add(h))[0]
        fm = vg_T(T0.at[k].add(-h))[0]
        fd = float(fp - fm) / (2 * h)
        floor_T = 1e-5 * float(jnp.max(jnp.abs(gT)))
        np.testing.assert_allclose(float(gT[k]), fd, rtol=1e-5, atol=floor_T, err_msg=f"layer {k}")

    vg_A = jax.jit(jax.value_and_grad(f_A))
    _, gA = vg_A(A)
    assert np.all(np.isfinite(np.asarray(gA)))
    floor = 1e-5 * float(jnp.max(jnp.abs(gA)))
    for z in (2, 6, 8, 11, 12, 14, 20, 26):  # He C O Na Mg Si Ca Fe
        h = 1e-4
        fd = float(vg_A(A.at[z - 1].add(h))[0] - vg_A(A.at[z - 1].add(-h))[0]) / (2 * h)
        np.testing.assert_allclose(float(gA[z - 1]), fd, rtol=1e-5, atol=floor, err_msg=f"Z={z}")


@pytest.mark.slow
@pytest.mark.needs_data
def test_vmap_over_abundances(sun):
    atm, A = sun
    wl = jnp.asarray([4000.0, 5000.0, 8000.0])
    batch = jnp.stack([A, A.at[25].add(0.5)])
    out = jax.vmap(lambda a: synthesize(atm, None, a, wl).continuum)(batch)
    one = synthesize(atm, None, batch[1], wl).continuum
    np.testing.assert_allclose(out[1], one, rtol=1e-10)
    assert np.all(np.isfinite(np.asarray(out)))


@pytest.mark.slow
@pytest.mark.needs_data
@pytest.mark.parametrize(("ref_id", "model", "hydrogen_bf", "tol"), [
    ("continuum_marcs_s5000_g3.0", "marcs_s5000_g3.0", "explicit", 0.01),
    ("continuum_marcs_s6000_g1.0", "marcs_s6000_g1.0", "explicit", 0.02),
    ("continuum_marcs_s6000_g1.0", "marcs_s6000_g1.0", "turbospectrum", 0.01),
])  # fmt: skip
def test_spherical_giants_vs_turbospectrum(ref_id, model, hydrogen_bf, tol):
    """Spherical MARCS giants vs Turbospectrum (pure LTE, spherical) at 4000-15000 Å, every 4th
    reference point, with Turbospectrum's adopted abundances (acceptance item 2).

    Default H I bound-free (all levels n <= 40, ``hydrogenic``): logg 3 -0.58..+0.29 % (1 %);
    the logg 1 supergiant -1.66..+0.27 %, so 2 % for it: its deficit grows to the red (-0.9 % at
    10000 Å, -1.66 % at 14000 Å), where the flux forms deepest. The cause is Turbospectrum's H I
    bound-free, which dominates the opacity of the supergiant's deep layers (79 % at 5000 Å at
    log tau_5000 = 0.6): it sums only n <= 6 (plus an Unsoeld quasi-continuum above n = 15.5) and
    its Gaunt factors are extrapolated from 182-441 Å, falling to 0.74 in the infrared
    (``hydrogenic`` docstring). There, our continuum opacity relative to 5000 Å exceeded
    Turbospectrum's by +8..+21 % red-ward (log tau_5000 = 0.2-1.3); the gas pressure is not it
    (ours within 0.4 % of Turbospectrum's), nor H-, H I free-free (our van Hoof Gaunt factors
    within 2 % of its Karzas-Latter table) or H2+. With ``hydrogen_bf="turbospectrum"``
    (Turbospectrum's treatment, reproduced) the opacity ratios agree within 0.5 % in every layer
    and the supergiant's continuum within 1 %: measured -0.39..+0.03 % (levels alone, without
    the Gaunt-factor extrapolation: -1.14..+0.20 %). Both treatments are smooth across the
    Paschen (8206 Å) and Brackett (14588 Å) limits thanks to H I level dissolution. The default
    is kept: it is the better physics (see ``hydrogenic``)."""
    import json

    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs

    ref = np.load(REF / f"{ref_id}.npz")
    meta = json.loads((REF / f"{ref_id}.json").read_text())
    used = meta["abundances_used"]
    solar = np.asarray(format_abundances(0.0, mixture="grevesse2007"))
    A = jnp.asarray([used.get(str(z), 0.0) or solar[z - 1] for z in range(1, 93)])
    atm = read_marcs(locate(model))
    wl_air = ref["wavelength"][::4]
    cdata = None if hydrogen_bf == "explicit" else _continuum_data(hydrogen_bf)
    sp = synthesize(atm, None, A, jnp.asarray(air_to_vacuum(wl_air)), continuum_data=cdata)
    r = np.asarray(sp.continuum) / ref["continuum_pure_lte"][::4]
    m = ~ref["near_hydrogen_edge"][::4] & (wl_air >= 4000) & (wl_air <= 15000)
    print(f"{ref_id} {hydrogen_bf}: {100 * (r[m].min() - 1):+.2f}..{100 * (r[m].max() - 1):+.2f} %")
    np.testing.assert_allclose(r[m], 1.0, atol=tol)


@pytest.mark.slow
@pytest.mark.needs_data
def test_line_opacity_plugs_in(sun):
    """With a line list the line opacity (``lines.line_absorption``) is added to the continuum
    before transfer: the continuum is unchanged, the normalised flux lies in (0, 1] and the strong
    Fe I lines of 5000-5005 Å appear (line-profile physics is tested in the lines module)."""
    from jaxstro.data import locate
    from jaxstro.synth.lines import read_linelist

    atm, A = sun
    ll = read_linelist(locate("linelist_fixture:5000-5005.vald"))
    wl = jnp.linspace(5000.0, 5005.0, 201)
    sp = synthesize(atm, ll, A, wl)
    cont = synthesize(atm, None, A, wl).continuum
    np.testing.assert_allclose(sp.continuum, cont, rtol=1e-12)
    norm = np.asarray(sp.normalized)
    assert np.all(norm > 0) and np.all(norm <= 1 + 1e-9) and norm.min() < 0.5


@pytest.mark.slow
@pytest.mark.needs_data
@pytest.mark.parametrize(("ref_id", "model", "hold", "tol"), [
    ("continuum_atlas9_t5750_g4.50_m+0.0", "atlas9_t5750_g4.50_m+0.0", False, 0.08),
    ("continuum_atlas9_t5750_g4.50_m-1.0", "atlas9_t5750_g4.50_m-1.0", False, 0.025),
    ("continuum_atlas9_t5750_g4.50_m+0.0", "atlas9_t5750_g4.50_m+0.0", True, 0.01),
    ("continuum_atlas9_t5750_g4.50_m-1.0", "atlas9_t5750_g4.50_m-1.0", True, 0.01),
])  # fmt: skip
def test_atlas9_rosseland_models_vs_turbospectrum(ref_id, model, hold, tol):
    """ATLAS9 models (tau_Rosseland scale: optical depth integrated on z) vs Turbospectrum at
    4300-15000 Å. With n_e solved from the abundances (default), measured +1.3..+6.1 %
    ([M/H] = 0) and +0.1..+1.8 % ([M/H] = -1). The excess is the electron density: the Kurucz grid
    was computed with older (Anders & Grevesse 1989) abundances, so our chemical equilibrium with
    the GAS2007 mixture gives n_e 17 % (10 %) below the model's in the photosphere, while
    Turbospectrum keeps the model's P_e (notes, point 3); less n_e means less H- and a brighter
    continuum. With ``HoldElectronPressure()`` (Turbospectrum's convention) the codes agree to
    1 %: measured -0.40..+0.39 % and -0.40..+0.02 %."""
    import json

    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_atlas9
    from jaxstro.synth.statmech import HoldElectronPressure

    ref = np.load(REF / f"{ref_id}.npz")
    used = json.loads((REF / f"{ref_id}.json").read_text())["abundances_used"]
    solar = np.asarray(format_abundances(0.0, mixture="grevesse2007"))
    A = jnp.asarray([used.get(str(z), 0.0) or solar[z - 1] for z in range(1, 93)])
    atm = read_atlas9(locate(model))
    assert atm.reference_wavelength is None
    wl_air = ref["wavelength"][::4]
    sp = synthesize(atm, None, A, jnp.asarray(air_to_vacuum(wl_air)),
                    electrons=HoldElectronPressure() if hold else None)  # fmt: skip
    r = np.asarray(sp.continuum) / ref["continuum_pure_lte"][::4]
    m = ~ref["near_hydrogen_edge"][::4] & (wl_air >= 4300) & (wl_air <= 15000)
    if not hold:
        assert np.all(r[m] > 1 - 0.01)  # never fainter: the n_e offset has one sign
    np.testing.assert_allclose(r[m], 1.0, atol=tol)


@pytest.mark.slow
@pytest.mark.needs_data
def test_gradients_through_atmosphere_interpolation():
    """d ln F_cont / d(Teff, logg, [M/H]) through ``interpolate_atmosphere`` (ATLAS9 grid, cubic
    interpax) and chemical equilibrium (abundances scaled with [M/H]) vs central differences,
    1e-5 relative (acceptance item 3)."""
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import interpolate_atmosphere, load_atlas9_grid

    grid = load_atlas9_grid()
    wl = jnp.asarray([4500.0, 6500.0, 12000.0])

    def f(p):
        atm = interpolate_atmosphere(grid, p[0], p[1], p[2])
        A = format_abundances(p[2], mixture="grevesse2007")
        return jnp.sum(jnp.log(synthesize(atm, None, A, wl).continuum))

    vg = jax.jit(jax.value_and_grad(f))
    p0 = jnp.asarray([5630.0, 4.33, -0.27])  # off the grid nodes
    _, g = vg(p0)
    assert np.all(np.isfinite(np.asarray(g)))
    for i, h in enumerate((0.05, 1e-4, 1e-4)):
        e = jnp.zeros(3).at[i].set(h)
        fd = float(vg(p0 + e)[0] - vg(p0 - e)[0]) / (2 * h)
        np.testing.assert_allclose(float(g[i]), fd, rtol=1e-5, err_msg=f"parameter {i}")


@pytest.mark.slow
@pytest.mark.needs_data
def test_spherical_gradients_turbospectrum_hydrogen():
    """Gradients through spherical transfer (6000 K / logg 1 MARCS supergiant) with
    ``hydrogen_bf="turbospectrum"`` are finite and match central differences to 1e-5 (measured
    <= 1.2e-7 for layer temperatures, <= 3.3e-6 for A(He)). Spherical transfer gave NaN gradients
    for the deep layers (rays that miss them: sqrt at 0 and a 1e-300 floor in masked branches)
    before ``transfer`` guarded them."""
    import equinox as eqx

    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs

    atm = read_marcs(locate("marcs_s6000_g1.0"))
    A = format_abundances(0.0, mixture="grevesse2007")
    cd = _continuum_data("turbospectrum")
    wl = jnp.asarray([4500.0, 8500.0, 12000.0])

    def f_T(T):
        a = eqx.tree_at(lambda m: m.temperature, atm, T)
        return jnp.sum(jnp.log(synthesize(a, None, A, wl, continuum_data=cd).continuum))

    vg = jax.jit(jax.value_and_grad(f_T))
    T0 = atm.temperature
    _, g = vg(T0)
    assert np.all(np.isfinite(np.asarray(g)))
    floor = 1e-5 * float(jnp.max(jnp.abs(g)))
    for k in (20, 50):
        h = 1e-4 * float(T0[k])
        fd = float(vg(T0.at[k].add(h))[0] - vg(T0.at[k].add(-h))[0]) / (2 * h)
        np.testing.assert_allclose(float(g[k]), fd, rtol=1e-5, atol=floor, err_msg=f"layer {k}")
    gA = jax.grad(lambda Ax: jnp.sum(jnp.log(synthesize(atm, None, Ax, wl,
                                                       continuum_data=cd).continuum)))(A)
    assert np.all(np.isfinite(np.asarray(gA)))
