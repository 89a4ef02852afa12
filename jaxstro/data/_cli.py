"""``jaxstro data list | fetch``: the registered data files and their download."""

from __future__ import annotations

import argparse


def _list(args: argparse.Namespace) -> int:
    from ._locate import registry, status

    files = registry()
    for name, state in status():
        f = files[name]
        if args.missing and state == "ok":
            continue
        print(f"{state:9s} {name:42s} {f.size / 1e6:9.3f} MB  {f.path}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from ._fetch import fetch
    from ._locate import DataFileError, registry, status

    if args.all:
        names = list(registry())
    elif args.missing:
        names = [n for n, s in status() if s != "ok"]
    else:
        names = args.names
    if not names:
        print("nothing to fetch")
        return 0
    failed = []
    for name in names:
        try:
            path = fetch(name, force=args.force, progress=not args.quiet)
            print(f"ok       {name} -> {path}")
        except (DataFileError, ValueError) as e:
            failed.append(name)
            print(f"FAILED   {name}: {e}")
    return 1 if failed else 0


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="list registered data files, download missing ones")
    sub = p.add_subparsers(dest="data_command", required=True)
    ls = sub.add_parser("list", help="every registered file with its state")
    ls.add_argument("--missing", action="store_true", help="only missing or corrupted files")
    ls.set_defaults(func=_list)
    fe = sub.add_parser("fetch", help="download files from their recorded source into the cache")
    fe.add_argument("names", nargs="*", help="registry names")
    g = fe.add_mutually_exclusive_group()
    g.add_argument("--missing", action="store_true", help="every file not found or corrupted")
    g.add_argument("--all", action="store_true", help="every registered file")
    fe.add_argument("--force", action="store_true", help="download again even if cached")
    fe.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    fe.set_defaults(func=_fetch)
