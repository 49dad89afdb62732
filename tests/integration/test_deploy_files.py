"""deploy/: the systemd unit, the Kubernetes manifests and the Dockerfile say what the CLI accepts and
probe what ``conveyor run`` serves (their commands are parsed by the CLI itself; the unit goes through
``systemd-analyze verify`` where the machine has it; the image's health check runs against a server)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

import conveyor
from conveyor._cli._run import run
from conveyor._stores._budget import runner_share
from conveyor._web import WebServer, check_bind, create_app

DEPLOY = Path(__file__).parents[2] / "deploy"


def run_params(argv: list[str]) -> dict[str, Any]:
    """The options ``conveyor run`` takes from ``argv`` (``conveyor run APP …``), as click parses them:
    an option it does not know, or a bad value, fails here."""
    assert Path(argv[0]).name == "conveyor" and argv[1] == "run", argv
    with click.Context(run) as ctx:
        parsed = run.make_context("run", list(argv[2:]), parent=ctx)
    return dict(parsed.params)


def served_paths() -> set[str]:
    app = conveyor.App("sqlite:///:memory:")
    return {getattr(r, "path", "") for r in create_app(app, token="").routes}


# -- systemd -----------------------------------------------------------------------------------------
def unit_sections(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"a key outside any section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_systemd_unit_runs_the_cli_and_stops_it_gracefully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (DEPLOY / "systemd" / "conveyor@.service").read_text()
    service = unit_sections(text)["Service"]
    environment = dict(pair.split("=", 1) for value in service["Environment"] for pair in value.split())
    argv = shlex.split(service["ExecStart"][0].replace("${CONVEYOR_APP}", "myapp:app"))
    for name in list(os.environ):
        if name.startswith("CONVEYOR_"):
            monkeypatch.delenv(name)
    params = run_params(argv)
    assert params["app_ref"] == "myapp:app" and params["port"] == 8765
    check_bind(params["host"], None)  # loopback: no token needed
    assert service["KillMode"] == ["mixed"]  # SIGTERM to the supervisor only
    assert service["KillSignal"] == ["SIGTERM"]
    grace = float(environment["CONVEYOR_GRACE"])
    assert float(service["TimeoutStopSec"][0]) >= grace + 10  # the supervisor kills stragglers at grace + 10
    assert service["User"] != ["root"]
    verify = shutil.which("systemd-analyze")
    if verify is not None:  # the unit as systemd reads it, with a conveyor that exists here
        unit = tmp_path / "conveyor@demo.service"
        unit.write_text(text.replace(argv[0], str(Path(sys.executable).parent / "conveyor")))
        done = subprocess.run(
            [verify, "verify", str(unit)], check=False, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done


# -- Kubernetes ----------------------------------------------------------------------------------------
def manifests() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            found.setdefault(doc["kind"], []).append(doc | {"_file": path.name})
    return found


def test_the_kubernetes_manifests_probe_what_conveyor_run_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    found = manifests()
    assert set(found) == {"Secret", "Deployment", "Service", "Kustomization"}  # no CronJob: schedules
    (kustomization,) = found["Kustomization"]
    files = {d["_file"] for kind, docs in found.items() if kind != "Kustomization" for d in docs}
    assert set(kustomization["resources"]) == files
    (secret,) = found["Secret"]
    (deployment,) = found["Deployment"]
    (service,) = found["Service"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]

    env: dict[str, Any] = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    for name in list(os.environ):
        if name.startswith("CONVEYOR_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)  # as the container gets them
    params = run_params(container["args"])
    assert params["processes"] == 2 and params["grace"] == 30.0 and params["max_connections"] == 12
    runner_share(params["max_connections"], params["processes"], web=True)  # enough for the runners

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == params["port"]
    paths = served_paths()
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ):
        get = container[probe]["httpGet"]
        assert get["path"] == path and path in paths
        assert ports[get["port"]] == params["port"]

    # Serving beyond loopback needs the token, which comes from the Secret.
    ref = env["CONVEYOR_TOKEN"]["secretKeyRef"]
    assert ref["name"] == secret["metadata"]["name"]
    check_bind(params["host"], secret["stringData"][ref["key"]])
    with pytest.raises(ValueError, match="CONVEYOR_TOKEN"):
        check_bind(params["host"], None)
    store = env["CONVEYOR_STORE"]["secretKeyRef"]
    assert secret["stringData"][store["key"]].startswith("postgresql://")

    assert pod["spec"]["terminationGracePeriodSeconds"] >= params["grace"] + 10
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


# -- Dockerfile ------------------------------------------------------------------------------------------
def dockerfile() -> dict[str, list[str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def test_the_dockerfile_runs_conveyor_as_a_user_with_a_working_health_check(tmp_path: Path) -> None:
    image = dockerfile()
    (base,) = image["FROM"]
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    (user,) = image["USER"]
    assert user not in ("root", "0")
    assert json.loads(image["ENTRYPOINT"][0]) == ["tini", "--"]
    params = run_params(json.loads(image["CMD"][0]))
    assert image["EXPOSE"] == [str(params["port"])]
    check = image["HEALTHCHECK"][0]
    command = json.loads(check[check.index("CMD ") + 4 :])
    assert command[:2] == ["python", "-c"]
    assert f"http://127.0.0.1:{params['port']}/healthz" in command[2]

    # The same check against a live web face (on a free port), then against nothing.
    app = conveyor.App(f"sqlite:///{tmp_path}/c.db")
    with WebServer(app, "127.0.0.1", 0, token="") as server:
        probe = command[2].replace(f":{params['port']}/", f":{server.port}/")
        assert subprocess.run([sys.executable, "-c", probe], check=False, timeout=30).returncode == 0
    app.close()
    failed = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, timeout=30)
    assert failed.returncode != 0
