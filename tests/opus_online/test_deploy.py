"""The Dockerfile and compose.yaml cannot be run here (no registry), so they are read:
every command they run is a real `opus-online` (the CLI's own parser) or `prefect`
command (Prefect's own parser), every OPUS_ variable they set is a setting, and the
image is built the way the README says (multi-stage, from the production lock, non-root),
and that lock holds the runtime dependencies and nothing of the test or demo tools."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from opus_online.cli import build_parser
from opus_online.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PROD_LOCK = "requirements/prod.txt"


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def known_variables() -> set[str]:
    """The settings' variables, and those a setting's default refers to (env:NAME)."""
    names = {f"OPUS_{name.upper()}" for name in Settings.model_fields}
    for field in Settings.model_fields.values():
        if isinstance(field.default, str) and field.default.startswith("env:"):
            names.add(field.default.removeprefix("env:"))
    return names


def commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every command the two files run."""
    found = []
    for name, service in _compose()["services"].items():
        if "command" in service:
            found.append((f"compose {name}", list(service["command"])))
    for instruction, arguments in _dockerfile():
        if instruction == "CMD":
            found.append(("Dockerfile CMD", json.loads(arguments)))
    return found


def test_the_files_run_the_roles_of_the_topology() -> None:
    services = _compose()["services"]
    argvs = {name: service.get("command") for name, service in services.items()}
    assert argvs["app1"] == argvs["app2"] == ["opus-online", "app"]
    assert argvs["write-back"] == ["opus-online", "worker"]
    assert argvs["flows"] == ["opus-online", "serve"]
    assert argvs["prefect-server"][:3] == ["prefect", "server", "start"]
    assert (
        "postgresql+asyncpg://"
        in services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    )
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["mailpit"]["profiles"] == ["staging"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$OPUS_ADMIN_HOST}" in caddy and "*.{$OPUS_BASE_DOMAIN}" in caddy
    assert "app1:8000 app2:8000" in caddy


@pytest.mark.parametrize("where, argv", commands(), ids=[w for w, _ in commands()])
def test_every_command_is_real(where: str, argv: list[str]) -> None:
    program, arguments = argv[0], argv[1:]
    if program == "opus-online":
        build_parser().parse_args(arguments)  # exits (SystemExit) on a wrong command
    elif program == "prefect":
        from prefect.cli._app import _app

        _app.parse_args(arguments)  # raises on an unknown command or option
    else:
        assert program in ("postgres", "caddy"), f"{where} runs {program}"


def test_every_opus_variable_is_a_setting() -> None:
    known = known_variables()
    set_here: dict[str, str] = {}
    for name, service in _compose()["services"].items():
        for variable in service.get("environment") or {}:
            set_here[variable] = f"compose {name}"
    for instruction, arguments in _dockerfile():
        if instruction == "ENV":
            for variable in re.findall(r"(OPUS_\w+)=", arguments):
                set_here[variable] = "Dockerfile"
    opus = {variable: where for variable, where in set_here.items() if variable.startswith("OPUS_")}
    assert len(opus) > 20
    unknown = {variable: where for variable, where in opus.items() if variable not in known}
    assert unknown == {}


def test_the_image_is_multi_stage_from_the_lock_and_not_root() -> None:
    instructions = _dockerfile()
    stages = [i for i, (instruction, _) in enumerate(instructions) if instruction == "FROM"]
    assert len(stages) >= 2
    final = instructions[stages[-1] :]
    runs = " ".join(arguments for instruction, arguments in final if instruction == "RUN")
    assert "build-essential" not in runs and "-dev" not in runs and "gcc" not in runs
    assert any(i == "COPY" and a.startswith("--from=build") for i, a in final)
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    build = " ".join(a for i, a in instructions[: stages[-1]] if i == "RUN")
    assert "--require-hashes" in build and "requirements/" in build


def _canonical(name: str) -> str:
    """A distribution's name as the lock files spell it (PEP 503), without extras."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", name.strip(), maxsplit=1)[0]).lower()


def _locked(lock: str) -> dict[str, str]:
    """name -> version of every package pinned in ``lock``."""
    text = (ROOT / lock).read_text()
    return {_canonical(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}


def test_the_image_installs_the_production_lock() -> None:
    instructions = _dockerfile()
    stages = [i for i, (instruction, _) in enumerate(instructions) if instruction == "FROM"]
    build = instructions[: stages[-1]]
    copied = [a for i, a in build if i == "COPY" and "requirements/" in a]
    installs = [a for i, a in build if i == "RUN" and "requirements/" in a]
    assert copied and all(PROD_LOCK in a for a in copied), copied
    assert len(installs) == 1 and f"-r /src/{PROD_LOCK}" in installs[0]
    assert "--require-hashes" in installs[0] and "--no-deps" in installs[0]
    # `make lock` writes it with the other two.
    makefile = (ROOT / "Makefile").read_text()
    assert f"PROD_LOCK := {PROD_LOCK}" in makefile and "-o $(PROD_LOCK)" in makefile


def test_the_production_lock_holds_the_runtime_and_no_test_or_demo_tools() -> None:
    prod, demo, dev = (_locked(f"requirements/{n}.txt") for n in ("prod", "demo", "dev"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_canonical(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert runtime <= prod.keys(), runtime - prod.keys()
    # The test tools: the dev extra's own packages and whatever only they pull in.
    test_tools = {_canonical(r) for r in extras["dev"]} - {"opus-online"}
    test_tools |= dev.keys() - demo.keys()
    assert {"pytest", "playwright", "schemathesis", "ruff", "hypothesis"} <= test_tools
    assert prod.keys() & test_tools == set()
    # The demo's stand-ins: its mail catcher is not in the image (its certificates'
    # cryptography is: Prefect needs it); otherwise the demo's runtime.
    assert "aiosmtpd" in {_canonical(r) for r in extras["demo"]} and "aiosmtpd" not in prod
    assert prod.keys() < demo.keys()
    # Compiled against the dev lock: the image runs the versions the tests ran.
    assert {name: dev.get(name) for name in prod} == prod
    hashed = re.findall(
        r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:", (ROOT / PROD_LOCK).read_text(), re.M
    )
    assert len(hashed) == len(prod)
