"""``aimark completion bash|zsh|fish``: the scripts, loaded by the real shells."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from test_bad_input import run_cli

COMPLETE = """
source "$1"
complete_line() {  # the words of a command line, the last one being completed
    COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
    _aimark
    printf '%s\\n' "${COMPREPLY[@]}" | sort | tr '\\n' ' '; echo
}
"""


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    d = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh", "fish"):
        proc = run_cli("completion", shell)
        assert proc.returncode == 0, proc.stderr
        out[shell] = d / f"aimark.{shell}"
        out[shell].write_text(proc.stdout)
    (d / "picture.jpg").write_bytes(b"")
    return d, out


def complete(script, *line: str, cwd=None) -> list[str]:
    calls = "\n".join(f"complete_line {' '.join(repr(w) for w in words)}" for words in line)
    proc = subprocess.run(
        ["bash", "-c", COMPLETE + calls, "bash", str(script)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return [ln.split() for ln in proc.stdout.splitlines()]


def test_bash_completes_commands_options_choices_and_files(scripts):
    d, out = scripts
    got = complete(
        out["bash"],
        ("aimark", "ver"),
        ("aimark", "verify", "--tr"),
        ("aimark", "keys", "gen"),
        ("aimark", "verify", "--watermark-scheme", "io.aimark.image.3", "pic"),
        ("aimark", "verify", "--trust", "pic"),
        ("aimark", "completion", ""),
        ("aimark", "label", "--visible-position", "top-"),
        cwd=d,
    )
    assert got[0] == ["verify"]
    assert got[1] == ["--tree", "--trust"]
    assert got[2] == ["generate"]
    assert got[3] == ["picture.jpg"]  # a path after an option's value
    assert got[4] == ["picture.jpg"]  # an option's file value
    assert got[5] == ["bash", "fish", "zsh"]
    assert got[6] == ["top-left", "top-right"]


def test_bash_script_lists_every_command(scripts):
    _, out = scripts
    (top,) = complete(out["bash"], ("aimark", ""))
    for command in ("label", "verify", "scan", "serve", "schema", "completion", "credentials"):
        assert command in top


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(scripts, shell):
    _, out = scripts
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here: only its script's generation is checked")
    proc = subprocess.run([shell, "-n", str(out[shell])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_zsh_and_fish_scripts_name_the_options(scripts):
    _, out = scripts
    fish = out["fish"].read_text()
    assert "complete -c aimark -n '__fish_use_subcommand' -a verify" in fish
    assert "-n '__fish_seen_subcommand_from verify' -l tree" in fish
    zsh = out["zsh"].read_text()
    assert zsh.startswith("#compdef aimark") and "bashcompinit" in zsh and "--tree" in zsh


def test_unknown_shell_is_a_usage_error():
    proc = run_cli("completion", "tcsh")
    assert proc.returncode == 64 and "Traceback" not in proc.stderr
