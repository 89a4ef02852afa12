"""Line-list readers: VALD, Kurucz, MOOG, Turbospectrum and Korg's HDF5 / CSV formats.

Every reader returns a :class:`LineList` in vacuum wavelengths [Å], energies in eV and log gf
including log10 of the isotopic fractions (natural abundances from the BNL wallet cards) when the
list names isotopes and has not applied them itself. Malformed input raises ``ValueError`` with the
file and line number.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np

from ._linelist import (
    VDW_ABO,
    VDW_LOG_GAMMA,
    VDW_UNSOLD,
    LineList,
    make_linelist,
    vdw_from_packed,
)
from ._species import (
    atom_name,
    log_isotopic_fraction,
    molecule_name,
    parse_formula,
    species_from_kurucz_code,
    species_from_moog_code,
    species_from_name,
    species_from_turbospectrum_code,
)

EV_PER_INV_CM = 1.0 / 8065.543937  # CODATA 2018: 1 eV = 8065.543937 cm^-1
BOHR_RADIUS_CM = 5.29177210903e-9


def _to_vacuum(wl_air: np.ndarray) -> np.ndarray:
    from ...spectra import air_to_vacuum

    return np.asarray(air_to_vacuum(np.asarray(wl_air, float)))


def _log_or_nan(x: np.ndarray) -> np.ndarray:
    """Linear damping constants from log10 columns where 0 means 'not given'."""
    x = np.asarray(x, float)
    return np.where(x == 0.0, np.nan, 10.0**x)


# --------------------------------------------------------------------------------------- VALD
_VALD_RECORD = re.compile(r"^'([A-Za-z][A-Za-z0-9()]*\s+\d+)'\s*,(.*)$")


def read_vald(path: str | Path) -> LineList:
    """VALD3 "extract stellar" or "extract all", short or long format, air or vacuum.

    The header line names the columns (``WL_air`` / ``WL_vac``, energies in eV or cm^-1, the
    long format's ``J lo``); lines whose log gf VALD did not scale by isotopic abundance (no
    "oscillator strengths were scaled" note) get log10 of the isotopic fractions of the isotopes
    named in the reference field, e.g. ``(12)C(14)N``. Damping columns: log10 gamma_rad and
    gamma_Stark (0 = none), the packed van der Waals value (see ``vdw_from_packed``).
    """
    path = Path(path)
    text = path.read_text(errors="replace").splitlines()
    header = next((ln for ln in text if ("WL_vac" in ln or "WL_air" in ln)), None)
    if header is None:
        raise ValueError(f"{path}: not a VALD extract (no WL_air/WL_vac column header)")
    air = "WL_air" in header
    long_format = "J lo" in header
    stellar = "Vmic" in header or "depth" in header.split("Waals")[-1]
    energy_cm = "cm^-1" in header
    scaled = any("oscillator strengths were scaled" in ln for ln in text)

    rows = []
    for lineno, ln in enumerate(text, 1):
        if ln.startswith("#"):
            continue
        m = _VALD_RECORD.match(ln.strip())
        if not m:
            continue
        fields = [f.strip() for f in m.group(2).split(",")]
        try:
            float(fields[0])
        except ValueError:
            continue
        rows.append((lineno, m.group(1), fields, ln))
    if not rows:
        raise ValueError(f"{path}: no VALD line records found")

    n = len(rows)
    wl, loggf, el, rad, stark, waals = (np.empty(n) for _ in range(6))
    names, isotopes = [], []
    for i, (lineno, sp, f, raw) in enumerate(rows):
        try:
            if long_format:
                wl[i], loggf[i], el[i] = float(f[0]), float(f[1]), float(f[2])
                rad[i], stark[i], waals[i] = float(f[9]), float(f[10]), float(f[11])
            elif stellar:  # wl, E, vmic, log gf, rad, stark, waals, lande, depth, ref
                wl[i], el[i], loggf[i] = float(f[0]), float(f[1]), float(f[3])
                rad[i], stark[i], waals[i] = float(f[4]), float(f[5]), float(f[6])
            else:  # wl, E, log gf, rad, stark, waals, lande, ref
                wl[i], el[i], loggf[i] = float(f[0]), float(f[1]), float(f[2])
                rad[i], stark[i], waals[i] = float(f[3]), float(f[4]), float(f[5])
        except (ValueError, IndexError) as e:
            raise ValueError(f"{path}:{lineno}: malformed VALD record ({e}): {raw!r}") from None
        names.append(species_from_name(sp))
        isotopes.append(_vald_isotopes(text, lineno, long_format))
    if energy_cm:
        el = el * EV_PER_INV_CM
    if air:
        wl = _to_vacuum(wl)
    if not scaled:
        loggf = loggf + np.array(
            [log_isotopic_fraction(s, iso) for s, iso in zip(names, isotopes, strict=True)]
        )
    kind, v1, v2 = vdw_from_packed(waals)
    return make_linelist(wl, loggf, names, el, gamma_rad=_log_or_nan(rad),
                         gamma_stark=_log_or_nan(stark), vdw_kind=kind, vdw_1=v1, vdw_2=v2,
                         source=str(path))


def _vald_isotopes(text: list[str], lineno: int, long_format: bool) -> tuple[int, ...]:
    """Isotope mass numbers from the reference field: ``(12)C(14)N`` -> (12, 14), Z-sorted."""
    ref = text[lineno + 2] if long_format and lineno + 2 < len(text) else text[lineno - 1]
    tail = ref.rstrip().rstrip("'").split()
    if not tail:
        return ()
    last = tail[-1]
    isos = re.findall(r"\((\d+)\)([A-Z][a-z]?)", last)
    if not isos:
        return ()
    from .._elements import ATOMIC_NUMBER

    pairs = sorted((ATOMIC_NUMBER[sym], int(a)) for a, sym in isos)
    return tuple(a for _, a in pairs)


# ------------------------------------------------------------------------------------- Kurucz
def read_kurucz(path: str | Path, *, vacuum: bool = True) -> LineList:
    """Kurucz ``gfall`` atomic lists (fixed width; wavelengths in nm, energies in cm^-1).

    Columns used: wavelength, log gf, species code ``ZZ.cc``, the two level energies (the lower
    is the smaller absolute value; negative = predicted level), log10 gamma_rad, gamma_Stark,
    gamma_vdW (0 = none), and, where present, the log10 hyperfine and isotope fractions, which
    are added to log gf. ``vacuum`` says whether the list is gfallvac (default) or air.
    """
    path = Path(path)
    wl, loggf, el, rad, stark, vdw, names = [], [], [], [], [], [], []
    n_high = 0
    for lineno, ln in enumerate(Path(path).read_text().splitlines(), 1):
        if not ln.strip():
            continue
        if len(ln) < 98:
            raise ValueError(f"{path}:{lineno}: Kurucz gfall record too short ({len(ln)} chars)")
        if int(ln[18:24].split(".")[-1][:2] or 0) > 2:
            n_high += 1  # ions beyond III: no partition functions, never visible in FGKM stars
            continue
        try:
            w = float(ln[0:11])
            g = float(ln[11:18])
            code = ln[18:24]
            e1, e2 = abs(float(ln[24:36])), abs(float(ln[52:64]))
            r, s, v = float(ln[80:86]), float(ln[86:92]), float(ln[92:98])
            extra = 0.0
            if len(ln) >= 121 and ln[109:115].strip():
                extra += float(ln[109:115]) + float(ln[118:124])  # hyperfine + isotope log frac
        except ValueError as e:
            raise ValueError(f"{path}:{lineno}: malformed Kurucz record ({e})") from None
        wl.append(w * 10.0)
        loggf.append(g + extra)
        el.append(min(e1, e2) * EV_PER_INV_CM)
        rad.append(r)
        stark.append(s)
        vdw.append(v)
        names.append(species_from_kurucz_code(code))
    if n_high:
        warnings.warn(f"{path}: skipped {n_high} lines of ions beyond III", stacklevel=2)
    if not wl:
        raise ValueError(f"{path}: no Kurucz line records")
    wl = np.array(wl)
    if not vacuum:
        wl = _to_vacuum(wl)
    vdw = np.array(vdw)
    kind = np.where(vdw != 0, VDW_LOG_GAMMA, VDW_UNSOLD).astype(np.int32)
    v1 = np.where(vdw != 0, vdw, 1.0)
    return make_linelist(wl, loggf, names, el, gamma_rad=_log_or_nan(rad),
                         gamma_stark=_log_or_nan(stark), vdw_kind=kind, vdw_1=v1,
                         source=str(path))


def read_kurucz_molecular(path: str | Path, *, vacuum: bool = False) -> LineList:
    """Kurucz molecular line lists (fixed width: wavelength [nm] F10.4, log gf F7.3, J F5.1,
    E [cm^-1] F10.3, J' F5.1, E' [cm^-1] F11.3, molecule code I4, e.g. 607 = CN, then labels).
    Isotope labels are not interpreted; no damping constants are given (defaults apply)."""
    path = Path(path)
    wl, loggf, el, names = [], [], [], []
    for lineno, ln in enumerate(path.read_text().splitlines(), 1):
        if not ln.strip():
            continue
        try:
            wl.append(float(ln[0:10]) * 10.0)
            loggf.append(float(ln[10:17]))
            el.append(min(abs(float(ln[22:32])), abs(float(ln[37:48]))) * EV_PER_INV_CM)
            names.append(species_from_kurucz_code(ln[48:52].strip()))
        except (ValueError, IndexError) as e:
            raise ValueError(f"{path}:{lineno}: malformed Kurucz molecular record ({e})") from None
    wl = np.array(wl)
    return make_linelist(wl if vacuum else _to_vacuum(wl), loggf, names, el, source=str(path))


# --------------------------------------------------------------------------------------- MOOG
def read_moog(path: str | Path, *, air: bool = True) -> LineList:
    """MOOG line lists: a title line, then 10-character columns wavelength [Å], species code,
    E_low [eV], log gf, van der Waals damping (MOOG's C6 column: packed as in VALD when > 0,
    blank = Unsöld), dissociation energy, EW. Wavelengths are air unless ``air=False``;
    isotopes in the species code (``606.01213``) add log10 of their natural fractions."""
    path = Path(path)
    lines = path.read_text().splitlines()[1:]
    wl, loggf, el, vdw, names = [], [], [], [], []
    for lineno, ln in enumerate(lines, 2):
        if not ln.strip():
            continue
        cols = [ln[i : i + 10] for i in range(0, 70, 10)]
        try:
            sp, iso = species_from_moog_code(cols[1])
            wl.append(float(cols[0]))
            el.append(float(cols[2]))
            loggf.append(float(cols[3]) + log_isotopic_fraction(sp, iso))
            vdw.append(float(cols[4]) if cols[4].strip() else 0.0)
            names.append(sp)
        except ValueError as e:
            raise ValueError(f"{path}:{lineno}: malformed MOOG record ({e}): {ln!r}") from None
    wl = np.array(wl)
    kind, v1, v2 = vdw_from_packed(np.where(np.array(vdw) > 0, np.array(vdw), 0.0))
    return make_linelist(_to_vacuum(wl) if air else wl, loggf, names, el, vdw_kind=kind,
                         vdw_1=v1, vdw_2=v2, source=str(path))


# ------------------------------------------------------------------------------ Turbospectrum
_TS_HEADER = re.compile(r"^\s*'\s*([0-9.]+)\s*'\s+(\d+)\s+(\d+)")


def read_turbospectrum(path: str | Path, *, air: bool = True, abo_tables=None) -> LineList:
    """Turbospectrum atomic or molecular line lists (e.g. the Gaia-ESO list, APOGEE ``.molec``).

    Blocks of ``'code' stage n_lines`` / a name line / ``n_lines`` rows of wavelength [Å, air],
    E_low [eV], log gf, fdamp, g_up, gamma_rad [s^-1, linear; 0 or 1 = default], [gamma_Stark,
    log10], then quoted level labels. ``fdamp`` follows the packed van der Waals convention.
    A block whose row count disagrees with its header is an error. Isotope codes (``3.0060``,
    ``0607.012014``) add log10 of their natural fractions to log gf, as Turbospectrum does.

    ``abo_tables`` (``broadening.AboTables``, e.g. ``broadening.load_abo_tables()``): lines whose
    ``fdamp`` is not a packed ABO value (< 20) get ABO cross sections from the published tables
    where the rules of ``broadening.abo_from_tables`` give one (the orbital letters of the two
    levels are the first two quoted fields of each row), overriding the list's log gamma or
    Unsöld factor, as Turbospectrum does; ``None`` (default) keeps the list's values.
    """
    path = Path(path)
    text = path.read_text(errors="replace").splitlines()
    wl, el, loggf, fdamp, grad, gstark, names = [], [], [], [], [], [], []
    orb_lo, orb_up = [], []
    i = 0
    while i < len(text):
        ln = text[i]
        if not ln.strip():
            i += 1
            continue
        m = _TS_HEADER.match(ln)
        if m:
            sp, iso = species_from_turbospectrum_code(m.group(1), int(m.group(2)))
            n_lines = int(m.group(3))
            start = i + 2
        elif ln.strip().startswith("'"):
            # a block without the numeric header: species from the name line ('LI I ')
            sp, iso = species_from_name(ln.strip().strip("'").strip().title()), ()
            n_lines, start = None, i + 1
        else:
            raise ValueError(f"{path}:{i + 1}: expected a species header, got {ln!r}")
        dlog = log_isotopic_fraction(sp, iso)
        j = start
        count = 0
        while j < len(text) and (n_lines is None or count < n_lines):
            row = text[j]
            if _TS_HEADER.match(row) or (n_lines is None and row.strip().startswith("'")):
                break
            if not row.strip():
                j += 1
                continue
            nums = row.split("'")[0].split()
            try:
                vals = [float(x) for x in nums]
                wl.append(vals[0])
                el.append(vals[1])
                loggf.append(vals[2] + dlog)
                fdamp.append(vals[3])
                grad.append(vals[5] if len(vals) > 5 else 0.0)
                gstark.append(vals[6] if len(vals) > 6 else 0.0)
            except (ValueError, IndexError):
                raise ValueError(f"{path}:{j + 1}: malformed Turbospectrum row {row!r}") from None
            names.append(sp)
            quoted = row.split("'")[1::2]
            orb_lo.append(quoted[0].strip()[:1] if quoted else "")
            orb_up.append(quoted[1].strip()[:1] if len(quoted) > 1 else "")
            count += 1
            j += 1
        if n_lines is not None and count != n_lines:
            raise ValueError(
                f"{path}:{i + 1}: block {m.group(1)!r} announces {n_lines} lines but has {count}"
            )
        i = j
    if not wl:
        raise ValueError(f"{path}: no Turbospectrum line records")
    wl = np.array(wl)
    grad = np.array(grad)
    gamma_rad = np.where((grad == 0) | (grad == 1), np.nan, grad)
    kind, v1, v2 = vdw_from_packed(np.array(fdamp))
    if abo_tables is not None:
        kind, v1, v2 = _apply_abo_tables(abo_tables, wl if air else None, wl, np.array(el),
                                         names, np.array(fdamp), orb_lo, orb_up, kind, v1, v2)
    return make_linelist(_to_vacuum(wl) if air else wl, loggf, names, el, gamma_rad=gamma_rad,
                         gamma_stark=_log_or_nan(np.array(gstark)), vdw_kind=kind, vdw_1=v1,
                         vdw_2=v2, source=str(path))


def _apply_abo_tables(tables, wl_air, wl, el, names, fdamp, orb_lo, orb_up, kind, v1, v2):
    """Override non-ABO van der Waals entries by the published ABO tables where they apply."""
    from .._partition import load_atomic_tables
    from ._species import constituents
    from .broadening import abo_from_tables

    if wl_air is None:
        from ...spectra import vacuum_to_air

        wl_air = np.asarray(vacuum_to_air(np.asarray(wl, float)))
    chi_tab = load_atomic_tables()["chi"]
    Z = np.zeros(len(names), int)
    q = np.full(len(names), -1)
    for sp in set(names):
        zs, c = constituents(sp)
        if len(zs) == 1:
            idx = np.array([n == sp for n in names])
            Z[idx], q[idx] = zs[0], c
    atom = (Z > 0) & (q >= 0) & (q <= 2)
    chi = np.full(len(names), np.nan)
    chi[atom] = chi_tab[Z[atom] - 1, q[atom]]
    sig, alp, found = abo_from_tables(tables, Z, q, wl_air, el, chi, np.array(orb_lo, "U1"),
                                      np.array(orb_up, "U1"))
    use = found & atom & (fdamp < 20)
    kind, v1, v2 = kind.copy(), v1.copy(), v2.copy()
    kind[use], v1[use], v2[use] = VDW_ABO, sig[use], alp[use]
    return kind, v1, v2


# ---------------------------------------------------------------------------------- Korg files
def read_korg_h5(path: str | Path, *, drop_hydrogen: bool = True) -> LineList:
    """Korg's HDF5 line-list format (e.g. the GALAH DR3 list): vacuum Å, log gf with isotopic
    fractions included, ``formula`` (atomic numbers), ``ionization`` (1 = neutral), log10
    damping columns with 0 = missing, packed van der Waals. H I lines are dropped by default
    (hydrogen lines are computed separately)."""
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as fh:
        need = ["wl", "log_gf", "formula", "ionization", "E_lo", "gamma_rad", "gamma_stark", "vdW"]
        missing = [k for k in need if k not in fh]
        if missing:
            raise ValueError(f"{path}: not a Korg line list (missing {missing})")
        d = {k: fh[k][()] for k in need}
    formula = np.asarray(d["formula"])
    if formula.shape[0] != d["wl"].shape[0]:
        formula = formula.T
    ion = np.asarray(d["ionization"]).astype(int)
    combos, inverse = np.unique(np.column_stack([formula, ion]), axis=0, return_inverse=True)
    table = []
    for row in combos:
        zs = [int(z) for z in row[:-1] if z > 0]
        table.append(atom_name(zs[0], row[-1] - 1) if len(zs) == 1 else molecule_name(zs,
                                                                                      row[-1] - 1))
    names = np.array(table, dtype=object)[inverse.ravel()]
    keep = np.ones(names.size, bool)
    if drop_hydrogen:
        keep = names != "H I"
    kind, v1, v2 = vdw_from_packed(np.asarray(d["vdW"], float))
    return make_linelist(
        np.asarray(d["wl"], float)[keep], np.asarray(d["log_gf"], float)[keep], names[keep],
        np.asarray(d["E_lo"], float)[keep],
        gamma_rad=_log_or_nan(d["gamma_rad"])[keep],
        gamma_stark=_log_or_nan(d["gamma_stark"])[keep],
        vdw_kind=kind[keep], vdw_1=v1[keep], vdw_2=v2[keep], source=str(path),
    )


def read_korg_csv(path: str | Path) -> LineList:
    """Korg's CSV line lists (``alpha_5000_lines.csv``): wl [cm, vacuum], log_gf, species,
    E_lower [eV], gamma_rad and gamma_stark [s^-1, linear], vdW either a linear gamma_vdW
    [s^-1] or ``"(sigma, alpha)"`` with sigma in cm^2 (ABO)."""
    path = Path(path)
    wl, loggf, el, grad, gst, kind, v1, v2, names = ([] for _ in range(9))
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), 2):
            try:
                wl.append(float(row["wl"]) * 1e8)
                loggf.append(float(row["log_gf"]))
                el.append(float(row["E_lower"]))
                grad.append(float(row["gamma_rad"]) or np.nan)
                gst.append(float(row["gamma_stark"]) or np.nan)
                names.append(species_from_name(row["species"]))
                v = row["vdW"].strip()
                if v.startswith("("):
                    sigma, alpha = (float(x) for x in v.strip("()").split(","))
                    kind.append(VDW_ABO)
                    v1.append(sigma / BOHR_RADIUS_CM**2)
                    v2.append(alpha)
                elif float(v) > 0:
                    kind.append(VDW_LOG_GAMMA)
                    v1.append(np.log10(float(v)))
                    v2.append(0.0)
                else:
                    kind.append(VDW_UNSOLD)
                    v1.append(1.0)
                    v2.append(0.0)
            except (KeyError, ValueError) as e:
                raise ValueError(f"{path}:{lineno}: malformed Korg CSV row ({e})") from None
    return make_linelist(wl, loggf, names, el, gamma_rad=grad, gamma_stark=gst, vdw_kind=kind,
                         vdw_1=v1, vdw_2=v2, source=str(path))


# --------------------------------------------------------------------------------- dispatcher
def read_linelist(path_or_name: str | Path, format: str | None = None, **kwargs) -> LineList:
    """Read a line list, recognising the format from the content when ``format`` is None.

    ``format``: ``"vald"``, ``"kurucz"``, ``"kurucz_molecular"``, ``"moog"``,
    ``"turbospectrum"``, ``"korg_h5"``, ``"korg_csv"``. A registered data-file name (e.g.
    ``"gaiaeso_linelist"``, ``"galah_dr3_linelist"``) is located through ``jaxstro.data``.
    """
    from ...data import entry, locate

    p = Path(path_or_name)
    if not p.exists():
        entry(str(path_or_name))  # raises a clear error for unknown names
        p = locate(str(path_or_name))
    readers = {
        "vald": read_vald, "kurucz": read_kurucz, "kurucz_molecular": read_kurucz_molecular,
        "moog": read_moog, "turbospectrum": read_turbospectrum, "korg_h5": read_korg_h5,
        "korg_csv": read_korg_csv,
    }  # fmt: skip
    if format is None:
        format = _sniff(p)
    if format not in readers:
        raise ValueError(f"unknown line-list format {format!r}; known: {sorted(readers)}")
    return readers[format](p, **kwargs)


def _sniff(p: Path) -> str:
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"\x89HDF"):
        return "korg_h5"
    text = head.decode(errors="replace")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if "WL_vac" in text or "WL_air" in text:
        return "vald"
    if first.startswith("wl,log_gf"):
        return "korg_csv"
    if _TS_HEADER.match(first) or re.match(r"^\s*'[A-Za-z]+\s+I+\s*'", first):
        return "turbospectrum"
    tok = first.split()
    if len(first) >= 150 and len(tok) > 8:
        return "kurucz"
    if len(tok) >= 7 and re.fullmatch(r"\d+[A-Z].*", tok[6] or ""):
        return "kurucz_molecular"
    return "moog"


__all__ = [
    "read_korg_csv", "read_korg_h5", "read_kurucz", "read_kurucz_molecular", "read_linelist",
    "read_moog", "read_turbospectrum", "read_vald", "parse_formula",
]  # fmt: skip
