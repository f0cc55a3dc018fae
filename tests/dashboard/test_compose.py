"""docker-compose.yml and the Dockerfile, checked without a Docker engine: every service's
command is a real `preflens` subcommand, the GPU reservations, profiles and the shared
volume are there, and the image installs exactly what `make install` installs."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from preflens.cli.main import build_parser
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PREFLENS = {name: s for name, s in SERVICES.items() if s.get("image") == "preflens:latest"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        current += " " + line.rstrip("\\").strip() if current else line.rstrip("\\").strip()
        if not line.endswith("\\"):
            lines.append(current)
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, and of the file targets it depends on."""
    text = (REPO / "Makefile").read_text()
    rules = {}
    for match in re.finditer(r"^([^\s:#=]+):([^=\n]*)\n((?:\t.*\n?)*)", text, re.M):
        rules[match.group(1)] = (match.group(2).split(), match.group(3).splitlines())
    deps, recipe = rules[target]
    out = []
    for dep in deps:
        if dep in rules or dep == "$(STAMP)":
            out += make_recipe(dep)
    return out + [line.strip() for line in recipe]


def test_the_preflens_services_and_their_profiles():
    assert {"api", "dashboard", "demo", "job", "postgres"} <= set(SERVICES)
    assert "profiles" not in SERVICES["api"] and "profiles" not in SERVICES["dashboard"]
    assert SERVICES["demo"]["profiles"] == ["jobs"] and SERVICES["job"]["profiles"] == ["jobs"]
    assert SERVICES["postgres"]["profiles"] == ["postgres"]
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert set(PREFLENS) == set(SERVICES) - {"postgres"}  # one image for everything else


@pytest.mark.parametrize("name", sorted(PREFLENS))
def test_every_command_is_a_real_preflens_subcommand(name):
    command = PREFLENS[name]["command"]
    assert isinstance(command, list)
    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert command[0] in subcommands
    try:
        args = build_parser().parse_args(command)
    except SystemExit as exc:  # argparse refuses: not a valid preflens command line
        pytest.fail(f"{name}: `preflens {shlex.join(command)}` does not parse ({exc})")
    assert callable(args.func)


def test_the_api_and_dashboard_listen_where_the_other_looks():
    api = build_parser().parse_args(SERVICES["api"]["command"])
    dash = build_parser().parse_args(SERVICES["dashboard"]["command"])
    assert api.host == dash.host == "0.0.0.0"
    assert dash.api_url == f"http://api:{api.port}"
    assert f"{api.port}:{api.port}" in SERVICES["api"]["ports"]
    assert f"{dash.port}:{dash.port}" in SERVICES["dashboard"]["ports"]


@pytest.mark.parametrize("name", ["api", "demo", "job"])
def test_the_api_and_the_jobs_reserve_the_gpu(name):
    (device,) = SERVICES[name]["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]


def test_the_dashboard_needs_no_gpu():
    assert "deploy" not in SERVICES["dashboard"]


def test_every_preflens_service_shares_the_store_volume():
    assert "preflens-data" in COMPOSE["volumes"]
    for name, service in PREFLENS.items():
        assert "preflens-data:/data" in service["volumes"], name
        assert service["environment"]["PREFLENS_DATA_DIR"] == "/data", name
        assert "PREFLENS_DATABASE_URL" in service["environment"], name


def test_the_dockerfile_runs_make_install():
    steps = dockerfile_instructions()
    runs = [args for op, args in steps if op == "RUN"]
    (install,) = [r for r in runs if "make install" in r]
    # The Makefile's own target does the installing: no other pip install in the image.
    assert not any("pip install" in r for r in runs)
    assert "VENV=/opt/venv" in install
    recipe = " ".join(make_recipe("install"))
    assert "pip install" in recipe and "-c requirements.lock" in recipe
    assert "'.[$(EXTRAS)]'" in recipe
    copies = [args for op, args in steps if op == "COPY"]
    assert copies and copies[0].split()[0] == "."  # the whole tree, as `make` sees it
    (entry,) = [args for op, args in steps if op == "ENTRYPOINT"]
    assert entry == '["preflens"]'
    env = " ".join(args for op, args in steps if op == "ENV")
    assert "/opt/venv/bin" in env and "PREFLENS_DATA_DIR=/data" in env


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv/" in ignored and ".preflens/" in ignored


def test_postgresql_is_the_documented_shared_store():
    """The header shows the shared-store setup: the postgres profile, a database URL that
    names the postgres service with its own user, password and database; the image has
    the driver by default; the store's users wait for the server and the migration."""
    header = (REPO / "docker-compose.yml").read_text().split("\nx-preflens")[0]
    assert "SHARED STORE" in header and "--profile postgres up" in header
    (url,) = re.findall(r"PREFLENS_DATABASE_URL=(\S+)", header)
    env = SERVICES["postgres"]["environment"]
    user, password, db = env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]
    assert url == f"postgresql+psycopg://{user}:{password}@postgres:5432/{db}"
    extras = PREFLENS["api"]["build"]["args"]["EXTRAS"]
    assert "postgres" in re.search(r":-([^}]*)\}", extras).group(1).split(",")
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    assert "postgres" in SERVICES["migrate"]["profiles"]
    for name in ("api", "dashboard", "demo", "job"):
        waits = SERVICES[name]["depends_on"]
        assert waits["postgres"] == {"condition": "service_healthy", "required": False}
        assert waits["migrate"]["condition"] == "service_completed_successfully"
