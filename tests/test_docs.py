"""The docs hold: docs/cli.md lists exactly the commands and options `--help` shows, the JSON
example in docs/check.md is a real report, and no doc or docstring cites a file outside the repo."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import pylock as pylock_package
from archives import asset_name, build_pbs_archive
from clirun import pylock
from pylock.project.platforms import host_platform

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src"
Spelling = dict[frozenset[str], str | None]  # option names -> metavar (None for a flag)


def _spelling(items: list[str]) -> tuple[frozenset[str], str | None]:
    """``["--project DIR", "-p DIR"]`` or ``["-p", "--project DIR"]`` -> names and metavar."""
    names, metavars = set(), set()
    for item in items:
        name, _, metavar = item.strip().partition(" ")
        names.add(name)
        if metavar:
            metavars.add(metavar)
    assert len(metavars) <= 1, items
    return frozenset(names), next(iter(metavars), None)


def cli_md() -> dict[str, Spelling]:
    """``{"": global options, "lock": {...}, ...}`` from docs/cli.md's sections and tables."""
    sections: dict[str, Spelling] = {}
    current: str | None = None
    for line in (DOCS / "cli.md").read_text("utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            match = re.fullmatch(r"`pylock (\w+(?: \w+)?)`", heading)
            current = match.group(1) if match else ("" if heading == "Global options" else None)
            if current is not None:
                sections[current] = {}
        elif current is not None and line.startswith("| `-"):
            first = re.split(r"(?<!\\)\|", line)[1]
            items = [i.replace("\\|", "|") for i in re.findall(r"`([^`]+)`", first)]
            names, metavar = _spelling(items)
            sections[current][names] = metavar
    return sections


def help_options(capsys: pytest.CaptureFixture[str], *command: str) -> Spelling:
    """The Options section of the real ``pylock [COMMAND] --help``, without -h/--help."""
    code, out, _ = pylock(capsys, *command, "--help")
    assert code == 0
    options: Spelling = {}
    in_options = False
    for line in out.splitlines():
        if line.strip() in ("Options:", "Commands:", "Arguments:", "Global options:"):
            in_options = line.strip() == "Options:"
        elif in_options and line.startswith("  -"):
            spelled = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
            names, metavar = _spelling(spelled.split(", "))
            if names != {"-h", "--help"}:
                options[names] = metavar
    return options


def commands(capsys: pytest.CaptureFixture[str], *group: str) -> list[str]:
    """Every command, a group's subcommands spelled ``group sub`` (``export uv``)."""
    _, out, _ = pylock(capsys, *group, "--help")
    listed = out.split("Commands:", 1)[1].split("\n\n", 1)[0].splitlines()
    found = []
    for name in [line.split()[0] for line in listed if re.match(r"  \S", line)]:
        _, sub, _ = pylock(capsys, *group, name, "--help")
        found += (
            commands(capsys, *group, name) if "Commands:" in sub else [" ".join([*group, name])]
        )
    return found


def test_cli_md_documents_exactly_the_commands_and_options_of_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    documented = cli_md()
    assert sorted(documented) == sorted(["", *commands(capsys)])
    assert documented[""] == help_options(capsys), "global options"
    for command in commands(capsys):
        assert documented[command] == help_options(capsys, *command.split()), command


def test_every_value_option_names_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    """No typer-made metavar like <str> or <list[str]> in any help."""
    for command in ["", *commands(capsys)]:
        for names, metavar in help_options(capsys, *command.split()).items():
            assert metavar is None or re.fullmatch(r"[A-Z]+|[a-z]+(\|[a-z]+)+", metavar), names


# --- references stay inside the repo ---------------------------------------------------------

TEXT_DIRS = ("src", "tests", "docs", "benchmarks", "examples", ".ci")


def _texts() -> list[Path]:
    found = [ROOT / "README.md"]
    for directory in TEXT_DIRS:
        found += [
            p
            for p in (ROOT / directory).rglob("*")
            if p.is_file()
            and p.suffix in {".py", ".md", ".toml", ""}
            # not generated or local trees (.venv, benchmarks/.work, __pycache__)
            and not any(part.startswith((".", "__")) for part in p.relative_to(ROOT).parts[1:])
        ]
    return [p for p in found if p != Path(__file__)]


def test_no_reference_to_files_outside_the_repo() -> None:
    for path in _texts():
        text = path.read_text("utf-8", errors="replace")
        for outside in ("DESIGN §", "DESIGN.md", "FORMAT.md", "/work/shared", "pbs/FORMAT"):
            assert outside not in text, f"{path.relative_to(ROOT)} cites {outside}"


def _headings(doc: Path) -> set[str]:
    """Section numbers of a doc: "## 8. Errors" -> "8", "### 1.2 The grammar" -> "1.2"."""
    numbers = set()
    for line in doc.read_text("utf-8").splitlines():
        if match := re.match(r"#{2,3} (\d+(?:\.\d+)?)\.? ", line):
            numbers.add(match.group(1))
    return numbers


def test_every_cited_doc_and_section_exists() -> None:
    cited = re.compile(r"docs/([\w-]+\.(?:md|json))(?: §(\d+(?:\.\d+)?))?")
    for path in _texts():
        for name, section in cited.findall(path.read_text("utf-8", errors="replace")):
            doc = DOCS / name
            assert doc.is_file(), f"{path.relative_to(ROOT)} cites docs/{name}"
            if section:
                assert section in _headings(doc), (
                    f"{path.relative_to(ROOT)}: docs/{name} §{section}"
                )
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text("utf-8")):
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links {target}"


def _cited_module_problem(dotted: str) -> str | None:
    """Why ``pylock.a.b.name`` names nothing in src/, else None. Walks the packages on disk (the
    ``__init__.py`` files hold only docstrings, so a package's next part must be a module), then
    wants the first part after a module to be defined or imported in it; after ``pylock.``
    itself, a public name (``pylock.__all__``, docs/api.md) or one its ``__init__.py`` defines
    is one too."""
    here = SRC / "pylock"
    parts = dotted.split(".")[1:]
    for index, part in enumerate(parts):
        if (here / part).is_dir():
            here = here / part
            continue
        if (here / f"{part}.py").is_file():
            rest = parts[index + 1 :]
            text = (here / f"{part}.py").read_text("utf-8")
            if rest and not re.search(rf"\b{re.escape(rest[0])}\b", text):
                return f"{rest[0]} is not in {(here / part).relative_to(ROOT)}.py"
            return None
        if here == SRC / "pylock" and part in {*pylock_package.__all__, *vars(pylock_package)}:
            return None
        return f"no module or package {part} in {here.relative_to(ROOT)}"
    return None


def test_every_cited_source_file_and_module_exists() -> None:
    """A move of a module leaves no doc, docstring or comment naming its old place."""
    paths = re.compile(r"\bsrc/pylock/[\w/]*\w\.py\b")
    dotted = re.compile(r"(?<![\w.-])pylock(?:\.[A-Za-z_]\w*)+")
    for path in _texts():
        text = path.read_text("utf-8", errors="replace")
        for cited in paths.findall(text):
            assert (ROOT / cited).is_file(), f"{path.relative_to(ROOT)} cites {cited}"
        for name in dotted.findall(text):
            problem = _cited_module_problem(name)
            assert problem is None, f"{path.relative_to(ROOT)} cites {name}: {problem}"


# --- docs/check.md's JSON example is a real report -------------------------------------------


def _json_block(text: str, after: str) -> tuple[int, int]:
    start = text.index("```json\n", text.index(after)) + len("```json\n")
    return start, text.index("```", start)


def test_check_md_json_example_is_a_real_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example is `pylock check --format json --platform linux-x86_64-gnu` on the sample
    project after its python request moved to 3.13, with its paths shown as /src and
    /home/me/.local/share/pylock. Set UPDATE_DOCS=1 to rewrite it from the real report."""
    project = tmp_path / "src"
    shutil.copytree(ROOT / "examples" / "sample-project", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8").replace('"3.12"', '"3.13"'), "utf-8")
    code, out, _ = pylock(
        capsys, "-p", str(project), "check", "--format", "json", "--platform", "linux-x86_64-gnu"
    )
    assert code == 1
    report = out.replace(str(project), "/src").replace(
        os.environ["PYLOCK_PYTHON_DIR"], "/home/me/.local/share/pylock"
    )
    check_md = DOCS / "check.md"
    text = check_md.read_text("utf-8")
    start, end = _json_block(text, "## JSON report")
    if os.environ.get("UPDATE_DOCS") == "1":
        check_md.write_text(text[:start] + report + text[end:], "utf-8")
    assert json.loads(text[start:end]) == json.loads(report)


# --- docs/api.md's example is the code a caller runs -------------------------------------------


def _fenced(text: str, language: str) -> str:
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"docs/api.md holds {len(blocks)} {language} blocks, not one"
    return str(blocks[0])


def _pointed(code: str, name: str, path: Path) -> str:
    """The example with its one ``name = Path(...)`` line pointed at ``path``."""
    code, count = re.subn(
        rf"^{name} = Path\(.*$", f"{name} = Path({str(path)!r})", code, flags=re.M
    )
    assert count == 1, f"docs/api.md's example should set {name} once"
    return code


def test_api_md_example_runs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """docs/api.md's Python block, run as written on a project holding its pyproject.toml,
    with only its ``project`` and ``mirror`` lines pointed at that project and at a local
    mirror of one stand-in release for this host (``{mirror}/{build}/{asset}`` + SHA256SUMS);
    then again (nothing changes), then against an empty mirror (the CLI's exit code, 2)."""
    text = (DOCS / "api.md").read_text("utf-8")
    project = tmp_path / "my-project"
    project.mkdir()
    (project / "pyproject.toml").write_text(_fenced(text, "toml"), "utf-8")
    host, build = host_platform(), "20260101"
    mirror = tmp_path / "pbs-mirror"
    (mirror / build).mkdir(parents=True)
    sums = ""
    for flavor in ("install_only", "install_only_stripped"):
        name = asset_name(version="3.12.8", build=build, triple=host.triple, flavor=flavor)
        body = build_pbs_archive(mirror / build / name, version="3.12.8", flavor=flavor)
        sums += f"{hashlib.sha256(body).hexdigest()}  {name}\n"
    (mirror / build / "SHA256SUMS").write_text(sums, "utf-8")
    example = _pointed(_pointed(_fenced(text, "python"), "project", project), "mirror", mirror)
    compiled = compile(example, str(DOCS / "api.md"), "exec")

    first: dict[str, object] = {"__name__": "__main__"}
    exec(compiled, first)
    out = capfd.readouterr().out
    assert f"added: {host.key} -> 3.12.8 ({build}, " in out
    assert f"installed: {os.environ['PYLOCK_PYTHON_DIR']}" in out
    assert "Python 3.12.8\n" in out  # the installed interpreter, run
    assert out.endswith("pylock check: all checks passed.\n")
    assert first["python"] == first["synced"].installation.interpreter  # type: ignore[attr-defined]

    second: dict[str, object] = {"__name__": "__main__"}
    exec(compiled, second)
    capfd.readouterr()
    assert not second["locked"].written  # type: ignore[attr-defined]
    assert {c.kind for c in second["locked"].changes} == {"unchanged"}  # type: ignore[attr-defined]
    assert second["synced"].action == "unchanged"  # type: ignore[attr-defined]

    empty = tmp_path / "empty-mirror"
    (project / "python.lock").unlink()
    with pytest.raises(SystemExit) as exited:
        exec(compile(_pointed(example, "mirror", empty), "api.md", "exec"), {})
    assert exited.value.code == 2
    err = capfd.readouterr().err
    assert err.startswith(f"error: Source mirror:{empty}: there is no mirror directory"), err
