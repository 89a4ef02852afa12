"""``jaxstro spectra info FILE`` and ``jaxstro spectra normalize FILE -o OUT.npz``."""

from __future__ import annotations

import argparse


def _info(args: argparse.Namespace) -> int:
    import numpy as np

    from ._io import read_spectrum

    for path in args.files:
        s = read_spectrum(path)
        wl = np.asarray(s.wavelength)
        iv = np.asarray(s.ivar)
        good = np.asarray(s.mask)
        snr = np.median(np.asarray(s.flux)[good] * np.sqrt(iv[good])) if good.any() else 0.0
        print(f"{path}")
        print(f"  shape {tuple(s.flux.shape)}, {wl.min():.3f}-{wl.max():.3f} Å ({s.medium})")
        print(f"  good pixels {int(good.sum())}/{good.size}, median S/N per pixel {snr:.1f}")
        for k, v in s.meta.items():
            print(f"  {k}: {v}")
    return 0


def _normalize(args: argparse.Namespace) -> int:
    import numpy as np

    from ._io import read_spectrum
    from ._normalize import bad_pixel_rule, continuum_normalize

    s = read_spectrum(args.file)
    nf, ni, cont = continuum_normalize(
        s.wavelength, s.flux, s.masked_ivar(), sigma=args.sigma, truncate=args.truncate
    )
    if args.bad_pixel_rule:
        nf, ni = bad_pixel_rule(nf, ni)
    np.savez(
        args.output,
        wavelength=np.asarray(s.wavelength),
        flux=np.asarray(nf),
        ivar=np.asarray(ni),
        continuum=np.asarray(cont),
        medium=s.medium,
        sigma=args.sigma,
        truncate=args.truncate,
    )
    print(f"wrote {args.output}: {int(np.sum(np.asarray(ni) > 0))} good pixels of {nf.size}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("spectra", help="read, inspect and normalise spectra")
    sub = p.add_subparsers(dest="spectra_command", required=True)
    info = sub.add_parser("info", help="read spectra (any supported layout) and summarise them")
    info.add_argument("files", nargs="+", help="spectrum files or registered data-file names")
    info.set_defaults(func=_info)
    norm = sub.add_parser("normalize", help="continuum-normalise a spectrum (thesis ch2/ch3)")
    norm.add_argument("file", help="spectrum file or registered data-file name")
    norm.add_argument("-o", "--output", required=True, help="output .npz")
    norm.add_argument("--sigma", type=float, default=50.0, help="Gaussian sigma [Å] (ch3: 25)")
    norm.add_argument("--truncate", type=float, default=150.0, help="kernel cut-off [Å]")
    norm.add_argument("--bad-pixel-rule", action="store_true",
                      help="apply the ch3 rule: normalised flux outside (0, 2) -> 1, ivar 0")
    norm.set_defaults(func=_normalize)
