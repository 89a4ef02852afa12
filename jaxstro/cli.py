"""The ``jaxstro`` command line: ``jaxstro info | demo | <module subcommands>``.

Each module that offers commands has a ``_cli.py`` with ``register(subparsers)``, which adds its
subparser and sets ``func`` (called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# modules that register subcommands; a module is listed here once its _cli.py exists
_COMMAND_MODULES = (
    "jaxstro.data._cli",
    "jaxstro.spectra._cli",
    "jaxstro.synth._cli",
    "jaxstro.infer._cli",
    "jaxstro.cannon._cli",
    "jaxstro.tsp._cli",
    "jaxstro.dynamics._cli",
    "jaxstro.disentangle._cli",
)


def _info(args: argparse.Namespace) -> int:
    import jax

    from . import __version__, data
    from ._config import x64_enabled

    print(f"jaxstro {__version__}")
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, x64 {x64_enabled()}")
    for d in jax.devices():
        print(f"  device {d.id}: {d.platform} {d.device_kind}")
    print(f"data search path: {[str(p) for p in data.search_dirs()]}")
    st = data.status()
    n_ok = sum(s == "ok" for _, s in st)
    print(f"registered data files: {n_ok}/{len(st)} present and valid")
    for name, s in st:
        if s != "ok" or args.verbose:
            print(f"  {s:9s} {name}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(output=args.output, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxstro", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="versions, devices, x64 state and data-file status")
    info.add_argument("-v", "--verbose", action="store_true", help="list every data file")
    info.set_defaults(func=_info)
    demo = sub.add_parser("demo", help="run the end-to-end demonstration on built-in data")
    demo.add_argument("-o", "--output", default="jaxstro_demo", help="output directory")
    demo.add_argument("--quick", action="store_true", help="smallest sizes (for tests)")
    demo.set_defaults(func=_demo)
    for mod in _COMMAND_MODULES:
        if _has_module(mod):
            importlib.import_module(mod).register(sub)
    return p


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def main(argv: list[str] | None = None) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as e:
        print(f"jaxstro {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
