"""The jaxstro command line: info, and that every registered module's subcommand builds."""

import pytest

from jaxstro.cli import build_parser, main


@pytest.mark.needs_data
def test_info_reports_versions_devices_and_data(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "jax" in out and "x64 True" in out
    assert "registered data files:" in out
    n_ok, n_all = out.split("registered data files: ")[1].split()[0].split("/")
    assert n_ok == n_all


def test_parser_has_core_commands():
    p = build_parser()
    sub = next(a for a in p._actions if a.dest == "command")
    assert {"info", "demo"} <= set(sub.choices)


def test_unknown_command_exits():
    with pytest.raises(SystemExit):
        main(["no-such-command"])
