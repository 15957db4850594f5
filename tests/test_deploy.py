"""deploy/ is checked offline: the compose file against the Compose Specification's JSON
schema, the Kubernetes manifests against the Kubernetes API's schemas (strict, unknown fields
refused), the Dockerfile for what the image promises, and ``.env.example`` against the
settings. Then the rules the schemas cannot express: migrations before the app, probes,
non-root, one poller, autoscalers pointing at real Deployments, no secret written inline.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bots.runner import ROLES
from bots.settings import Settings, env_example, env_var_name

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33.0"
APP_SERVICES = ("web", "poller", "worker", "scheduler")
SETTING_VARIABLES = {env_var_name(name) for name in Settings.model_fields}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEY")
GRACE_DEFAULT = Settings.model_fields["shutdown_grace_seconds"].default
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?])(?P<rest>[^}]*))?\}")


# --- .env.example ----------------------------------------------------------------------------


def test_env_example_is_up_to_date() -> None:
    written = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert written == env_example(), (
        "deploy/.env.example is out of date; regenerate it from the repository root with:\n"
        "  .venv/bin/python -c 'from bots.settings import env_example; "
        'print(env_example(), end="")\' > deploy/.env.example'
    )


def test_env_example_lists_every_setting_with_its_default() -> None:
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    listed = {line[2:].partition("=")[0] for line in lines if line.startswith("# COLLABBOT_")}
    assert listed == SETTING_VARIABLES
    assert "# COLLABBOT_LOG_LEVEL=INFO" in lines
    assert "# COLLABBOT_TELEGRAM_TOKEN=" in lines  # secrets: no value, not even a default
    assert f"# COLLABBOT_SHUTDOWN_GRACE_SECONDS={GRACE_DEFAULT}" in lines
    # Only comments: a copy changes nothing until a line is uncommented.
    assert all(not line or line.startswith("#") for line in lines)


# --- compose.yaml -------------------------------------------------------------------------


@cache
def compose_text() -> str:
    return (DEPLOY / "compose.yaml").read_text(encoding="utf-8")


def interpolate(value: Any) -> Any:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``, with a test value
    for every required variable."""
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: f"test-{m['name'].lower()}", value)
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    return value


@cache
def compose() -> dict[str, Any]:
    loaded = interpolate(yaml.safe_load(compose_text()))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's schema, as check-jsonschema ships it."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def test_compose_file_follows_the_compose_specification() -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(compose())
    ]
    assert not problems, "\n".join(problems)


def test_the_schema_check_catches_a_mistake() -> None:
    schema = compose_schema()
    broken = json.loads(json.dumps(compose()))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))
    assert len(errors) >= 2


def test_compose_runs_postgres_redis_and_every_role() -> None:
    assert set(services()) == {"postgres", "redis", "migrate", *APP_SERVICES}
    assert services()["postgres"]["image"] == "postgres:16"
    assert services()["redis"]["image"] == "redis:7"
    for role in APP_SERVICES:
        assert services()[role]["command"] == ["run", "--role", role]
    assert services()["migrate"]["command"] == ["db", "upgrade"]
    assert services()["worker"]["deploy"]["replicas"] == 2
    assert services()["poller"]["deploy"]["replicas"] == 1
    assert services()["web"]["ports"], "the web service publishes its port"
    assert set(ROLES) == set(APP_SERVICES)


def test_every_service_is_health_checked_or_waits_for_what_it_needs() -> None:
    for name, service in services().items():
        check = service.get("healthcheck", {})
        has_check = bool(check.get("test")) and not check.get("disable")
        # The collabbot image brings its own HEALTHCHECK (see the Dockerfile tests).
        image_check = name in APP_SERVICES
        conditions = [
            dependency.get("condition")
            for dependency in (service.get("depends_on") or {}).values()
            if isinstance(dependency, dict)
        ]
        assert has_check or image_check or conditions, f"{name}: no health check, no conditions"
        assert all(conditions), f"{name}: a dependency without a condition"


def test_migrations_run_once_before_the_app_starts() -> None:
    migrate = services()["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for role in APP_SERVICES:
        needs = services()[role]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, role
        assert needs["postgres"] == {"condition": "service_healthy"}, role
        assert needs["redis"] == {"condition": "service_healthy"}, role


def test_app_services_share_postgres_redis_and_settings_from_env() -> None:
    for name in ("migrate", *APP_SERVICES):
        service = services()[name]
        assert service["env_file"] == [{"path": ".env", "required": True}], name
        env = service["environment"]
        assert env["COLLABBOT_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert "@postgres:5432/" in env["COLLABBOT_DATABASE_URL"], name
        assert env["COLLABBOT_REDIS_URL"].startswith("redis://redis:6379/"), name
        assert env["COLLABBOT_HTTP_LISTEN"] == "0.0.0.0:8080", name
        assert set(env) <= SETTING_VARIABLES, f"{name}: {set(env) - SETTING_VARIABLES}"
        assert service["read_only"] is True, name
        grace = _seconds(service["stop_grace_period"])
        assert grace > GRACE_DEFAULT, f"{name}: stop_grace_period {grace} s"


def test_no_secret_is_written_into_the_compose_file() -> None:
    raw = yaml.safe_load(compose_text())

    def environments() -> Iterator[tuple[str, str, str]]:
        for name, service in raw["services"].items():
            env = service.get("environment") or {}
            for key, value in env.items():
                yield name, key, str(value)

    for name, key, value in environments():
        if any(word in key for word in SECRET_WORDS):
            assert INTERPOLATION.fullmatch(value), f"{name}: {key} is written inline"
        if "://" in value:
            userinfo = value.partition("://")[2].rpartition("@")[0]
            password = userinfo.partition(":")[2]
            assert not password or INTERPOLATION.fullmatch(password), f"{name}: {key} password"
    assert "secret" not in {key.lower() for key in raw.get("secrets", {})}


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(
        float(n) * units[unit] for n, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    )


# --- Kubernetes ------------------------------------------------------------------------------


@cache
def manifests() -> tuple[tuple[str, dict[str, Any]], ...]:
    """Every Kubernetes object under deploy/k8s (file name, object), but the kustomization."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found.append((path.name, document))
    return tuple(found)


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for _, o in manifests() if o["kind"] == kind}


def deployments() -> dict[str, dict[str, Any]]:
    return objects("Deployment")


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, deployment in deployments().items():
        yield name, deployment["spec"]["template"]["spec"]
    for name, job in objects("Job").items():
        yield name, job["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    ("file", "index"),
    [(file, i) for i, (file, _) in enumerate(manifests())],
)
def test_manifest_is_valid_for_kubernetes(file: str, index: int) -> None:
    _, document = manifests()[index]
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{file}: {document['kind']} {document['metadata']['name']}: {error}")


def test_the_kubernetes_check_catches_a_mistake() -> None:
    deployment = json.loads(json.dumps(deployments()["collabbot-web"]))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGets"] = container["readinessProbe"].pop("httpGet")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_manifests_are_namespace_agnostic_and_all_applied() -> None:
    for file, document in manifests():
        assert "namespace" not in document["metadata"], file
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The Secret template is never applied: it would put placeholders into the cluster.
    assert set(kustomization["resources"]) == files - {"secret.example.yaml"}


def test_one_deployment_per_role_running_that_role() -> None:
    assert set(deployments()) == {f"collabbot-{role}" for role in ROLES}
    for role in ROLES:
        spec = deployments()[f"collabbot-{role}"]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        assert labels["app.kubernetes.io/component"] == role
        (container,) = spec["template"]["spec"]["containers"]
        assert container["args"] == ["run", "--role", role]


def test_one_poller_per_bot_token() -> None:
    spec = deployments()["collabbot-poller"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}, "two pollers would overlap in an update"
    assert not any(
        hpa["spec"]["scaleTargetRef"]["name"] == "collabbot-poller"
        for hpa in objects("HorizontalPodAutoscaler").values()
    )


def test_the_scheduler_may_run_twice_because_one_leads() -> None:
    assert deployments()["collabbot-scheduler"]["spec"]["replicas"] >= 2


def test_autoscalers_scale_web_and_worker_deployments() -> None:
    hpas = objects("HorizontalPodAutoscaler")
    assert {hpa["apiVersion"] for hpa in hpas.values()} == {"autoscaling/v2"}
    targets = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas.values()}
    assert targets == {"collabbot-web", "collabbot-worker"}
    for hpa in hpas.values():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in deployments()
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # A fixed count would fight the autoscaler at every apply.
        assert "replicas" not in deployments()[target["name"]]["spec"]
        (container,) = deployments()[target["name"]]["spec"]["template"]["spec"]["containers"]
        assert container["resources"]["requests"]["cpu"], "CPU utilisation needs a request"


def test_the_service_reaches_the_web_pods() -> None:
    (service,) = objects("Service").values()
    web = deployments()["collabbot-web"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= web["metadata"]["labels"].items()
    (container,) = web["spec"]["containers"]
    ports = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= ports


def test_every_pod_is_probed_unprivileged_and_bounded() -> None:
    for name, pod in pod_specs():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert "memory" in container["resources"]["limits"], where
    for name, deployment in deployments().items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name


def test_pods_get_longer_to_stop_than_the_grace_period() -> None:
    config = objects("ConfigMap")["collabbot-config"]["data"]
    grace = float(config["COLLABBOT_SHUTDOWN_GRACE_SECONDS"])
    assert grace >= GRACE_DEFAULT
    for name, deployment in deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        pause = 0
        if "lifecycle" in container:
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            pause = int(command[-1]) if command[0] == "sleep" else 0
        assert pod["terminationGracePeriodSeconds"] > grace + pause, name


def test_settings_come_from_the_config_map_and_the_secret() -> None:
    config = objects("ConfigMap")["collabbot-config"]
    (secret_file, secret) = next((f, o) for f, o in manifests() if o["kind"] == "Secret")
    assert secret_file == "secret.example.yaml"
    assert set(config["data"]) <= SETTING_VARIABLES
    assert set(secret["stringData"]) <= SETTING_VARIABLES
    assert config["data"]["COLLABBOT_HTTP_LISTEN"].startswith("0.0.0.0:"), "probes reach it"
    for key in config["data"]:
        assert not any(word in key for word in SECRET_WORDS), f"{key} belongs in the Secret"
    expected = [
        {"configMapRef": {"name": config["metadata"]["name"]}},
        {"secretRef": {"name": secret["metadata"]["name"]}},
    ]
    for name, pod in pod_specs():
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["envFrom"] == expected, f"{name}/{container['name']}"
            assert "env" not in container, f"{name}: settings belong in the ConfigMap or Secret"


def test_the_migration_job_upgrades_and_the_roles_wait_for_it() -> None:
    (job,) = objects("Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    for name, deployment in deployments().items():
        (wait,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert "collabbot db current --check" in shlex.join(wait["command"]), name


# --- Dockerfile ------------------------------------------------------------------------------


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) for every instruction, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction, arguments in dockerfile():
        if instruction == "FROM":
            found.append([])
        if found:
            found[-1].append((instruction, arguments))
    return found


def test_dockerfile_builds_in_one_stage_and_runs_from_another() -> None:
    builder, runtime = stages()
    assert builder[0][1].endswith(" AS builder")
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in dockerfile()
    assert all(stage[0][1].startswith("${PYTHON_IMAGE}") for stage in (builder, runtime))
    copies = [arguments for instruction, arguments in runtime if instruction == "COPY"]
    assert copies == ["--from=builder /opt/collabbot /opt/collabbot"], "only the built venv"


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    (user,) = [arguments for instruction, arguments in stages()[-1] if instruction == "USER"]
    uid = user.partition(":")[0]
    assert uid.isdigit(), "a numeric USER, so that runAsNonRoot can check it"
    assert int(uid) != 0
    pods = [pod["securityContext"]["runAsUser"] for _, pod in pod_specs()]
    assert set(pods) == {int(uid)}


def test_dockerfile_checks_health_without_curl() -> None:
    (check,) = [
        arguments for instruction, arguments in stages()[-1] if instruction == "HEALTHCHECK"
    ]
    assert "/healthz" in check
    assert "urllib.request" in check
    assert not {"curl", "wget"} & set(re.findall(r"\w+", check))
    command = json.loads(check.partition("CMD ")[2])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "HEALTHCHECK", "exec")  # the one-liner is valid Python


def test_dockerfile_starts_collabbot_run() -> None:
    runtime = dict(stages()[-1])
    assert json.loads(runtime["ENTRYPOINT"]) == ["collabbot"]
    assert json.loads(runtime["CMD"]) == ["run"]
    assert "COLLABBOT_HTTP_LISTEN=0.0.0.0:8080" in runtime["ENV"], "probes reach every role"
