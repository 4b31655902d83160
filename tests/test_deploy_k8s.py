"""deploy/k8s: every object of the base and of the overlays' patches is valid against the
Kubernetes API schemas shipped by kubernetes-validate; the overlays build with kubectl's
kustomize; probes, ports, environment names, secrets, the NATS cluster and the network
policies are checked against the code. No cluster runs here."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url

from cpd_common.testing.servers import nats_server_binary
from cpd_local import cli as local_cli

from .deploy_helpers import (
    API_PORT,
    BASE,
    IMAGE_WORKDIR,
    K8S,
    K8S_VERSIONS,
    MIN_NATS,
    OVERLAYS,
    ROOT,
    SERVICES,
    UPSTREAMS,
    api_command,
    k8s_nats_config,
    migrate_command,
    nats_settings,
    settings_env_names,
    version_of,
    worker_command,
    yaml_docs,
)

# deploy/k8s


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to build the overlays"
    result = subprocess.run(
        [kubectl, "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]


@functools.cache
def base_docs() -> list[dict[str, Any]]:
    """Every object of deploy/k8s/base as kustomize builds it (the services come from the
    service component); built once, tests copy before changing one."""
    return kustomize(BASE)


def overlay(name: str) -> dict[str, Any]:
    return yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())


def overlay_patch_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for name in OVERLAYS:
        for patch in overlay(name).get("patches", []):
            if "path" in patch:
                docs += [(name, doc) for doc in yaml_docs(K8S / "overlays" / name / patch["path"])]
    return docs


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def doc_id(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def test_kustomizations_name_every_manifest() -> None:
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(base["resources"]) == files | set(SERVICES)
    # A service's folder only names it: its objects come from the one service component.
    component = K8S / "components" / "service"
    for name in SERVICES:
        folder = BASE / name
        assert {p.name for p in folder.iterdir()} == {"kustomization.yaml", "name.yaml"}
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization["resources"] == ["name.yaml"]
        assert [(folder / c).resolve() for c in kustomization["components"]] == [component]
        (config,) = yaml_docs(folder / "name.yaml")
        assert config["data"] == {"name": name, "module": f"cpd_{name}"}
        assert config["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    built = {doc_id(d) for d in base_docs()}
    for name in SERVICES:
        assert {f"Deployment/{name}", f"Deployment/{name}-worker", f"Job/{name}-migrate"} <= built
    assert not any("SERVICE" in json.dumps(d) for d in base_docs())
    assert not any(
        d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("service")
        for d in base_docs()
    )
    for name in OVERLAYS:
        kustomization = overlay(name)
        assert kustomization["resources"] == ["../../base"]
        for patch in kustomization.get("patches", []):
            assert "path" in patch or ("patch" in patch and "target" in patch), patch
            if "path" in patch:
                assert (K8S / "overlays" / name / patch["path"]).is_file()
        on_disk = {p.name for p in (K8S / "overlays" / name).glob("*.yaml")}
        used = {p["path"] for p in kustomization.get("patches", []) if "path" in p}
        assert on_disk - {"kustomization.yaml"} == used


@pytest.mark.parametrize("doc", base_docs(), ids=doc_id)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_base_object_is_valid_kubernetes(doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize(
    "where,doc", overlay_patch_docs(), ids=lambda x: x if isinstance(x, str) else doc_id(x)
)
def test_overlay_patch_object_is_valid_kubernetes(where: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSIONS[0], strict=True)
    find(base_docs(), doc["kind"], doc["metadata"]["name"])


def test_kubernetes_validation_is_strict() -> None:
    deployment = copy.deepcopy(find(base_docs(), "Deployment", "audit"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]


def container_env_names(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets from its ConfigMaps (values) and env entries."""
    names: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        names[entry["name"]] = entry.get("value", "<from secret>")
    return names


def assert_hardened(doc: dict[str, Any]) -> None:
    spec = pod_spec(doc)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), doc_id(doc)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (match,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return match


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_api_probes_ports_and_scaling(name: str) -> None:
    docs = base_docs()
    deployment = find(docs, "Deployment", name)
    assert_hardened(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"], labels)
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == api_command(name)
    probes = {
        kind: container[f"{kind}Probe"]["httpGet"] for kind in ("startup", "readiness", "liveness")
    }
    assert probes["readiness"]["path"] == "/readyz"
    assert probes["liveness"]["path"] == probes["startup"]["path"] == "/healthz"
    for probe in probes.values():
        assert port_number(container, probe["port"]) == API_PORT
    database = next(e for e in container["env"] if e["name"] == "CPD_DATABASE_URL")
    ref = database["valueFrom"]["secretKeyRef"]
    assert ref["key"] in find(docs, "Secret", ref["name"])["stringData"]

    service = find(docs, "Service", name)
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    (port,) = service["spec"]["ports"]
    assert port["port"] == API_PORT and port_number(container, port["targetPort"]) == API_PORT

    hpa = find(docs, "HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert selects(find(docs, "PodDisruptionBudget", name)["spec"]["selector"], labels)


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_worker_probes_its_health_port(name: str) -> None:
    docs = base_docs()
    deployment = find(docs, "Deployment", f"{name}-worker")
    assert_hardened(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == worker_command(name)
    env = container_env_names(docs, container)
    assert int(env["CPD_WORKER_HEALTH_PORT"]) > 0
    # The worker's health server binds 127.0.0.1 (cpd_common.worker), so probes run in the pod.
    for kind, path in (("startup", "/healthz"), ("liveness", "/healthz"), ("readiness", "/readyz")):
        command = container[f"{kind}Probe"]["exec"]["command"]
        assert command == ["python", "/app/healthcheck.py", "worker", path]
    assert selects(find(docs, "PodDisruptionBudget", f"{name}-worker")["spec"]["selector"], labels)


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_migration_job(name: str) -> None:
    docs = base_docs()
    job = find(docs, "Job", f"{name}-migrate")
    assert_hardened(job)
    (container,) = pod_spec(job)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == migrate_command(name)
    assert container["workingDir"] == IMAGE_WORKDIR
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")
    # The gateway's migration also encrypts secrets stored in clear (CPD_SECRETS_KEY).
    extra = {"CPD_SECRETS_KEY"} if name == "gateway" else set()
    assert {e["name"] for e in container["env"]} == {"CPD_DATABASE_URL"} | extra


def test_k8s_environment_names_are_settings() -> None:
    docs = base_docs()
    for deployment in (d for d in docs if d["kind"] in ("Deployment", "Job")):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        for container in pod_spec(deployment)["containers"]:
            names = set(container_env_names(docs, container))
            unknown = {n for n in names if n.startswith("CPD_")} - settings_env_names(service)
            assert not unknown, f"{doc_id(deployment)}: {sorted(unknown)}"
    config = find(docs, "ConfigMap", "cpd-config")["data"]
    assert config["CPD_NATS_URL"] == "nats://nats:4222"
    assert config["CPD_JWKS_URL"] == f"http://gateway:{API_PORT}/.well-known/jwks.json"
    assert config["CPD_JWT_ISSUER"] == local_cli.ISSUER
    assert config["CPD_JWT_AUDIENCE"] == local_cli.AUDIENCE
    nats = find(docs, "Service", "nats")
    assert [p["port"] for p in nats["spec"]["ports"]] == [4222]
    gateway = find(docs, "ConfigMap", "cpd-gateway-config")["data"]
    for upstream in UPSTREAMS:
        assert gateway[f"CPD_{upstream.upper()}_URL"] == f"http://{upstream}:{API_PORT}"
        assert find(docs, "Service", upstream)["spec"]["ports"][0]["port"] == API_PORT


def test_k8s_secrets_are_placeholders_the_pods_use() -> None:
    docs = base_docs()
    urls = find(docs, "Secret", "cpd-database")["stringData"]
    assert set(urls) == set(SERVICES)
    for name, url in urls.items():
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+asyncpg" and parsed.database == f"cpd_{name}"
    signing = find(docs, "Secret", "cpd-gateway-signing-key")
    assert signing["stringData"] and all(k.startswith("CPD_") for k in signing["stringData"])
    (gateway,) = pod_spec(find(docs, "Deployment", "gateway"))["containers"]
    refs = [s["secretRef"]["name"] for s in gateway["envFrom"] if "secretRef" in s]
    assert refs == ["cpd-gateway-signing-key"]
    assert not any(  # the signing key stays with the gateway
        "secretRef" in source
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"] != "gateway"
        for c in pod_spec(d)["containers"]
        for source in c.get("envFrom", [])
    )
    # The key of the secrets at rest: the gateway's API, worker and migration, no one else.
    key = find(docs, "Secret", "cpd-gateway-secrets-key")["stringData"]
    readers = set()
    for d in docs:
        if d["kind"] not in ("Deployment", "Job"):
            continue
        for c in pod_spec(d)["containers"]:
            for entry in c.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef", {})
                if ref.get("name") == "cpd-gateway-secrets-key":
                    assert entry["name"] == "CPD_SECRETS_KEY" and ref["key"] in key
                    readers.add(d["metadata"]["name"])
    assert readers == {"gateway", "gateway-worker", "gateway-migrate"}


def test_k8s_nats_statefulset_is_a_durable_jetstream_cluster() -> None:
    docs = base_docs()
    statefulset = find(docs, "StatefulSet", "nats")
    assert_hardened(statefulset)
    spec = statefulset["spec"]
    (container,) = pod_spec(statefulset)["containers"]
    assert container["image"].startswith("nats:") and version_of(container["image"]) >= MIN_NATS
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert container["image"] == compose["services"]["nats"]["image"]

    config = k8s_nats_config(docs)
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always" and settings.get("cluster") == "yes"
    routes = re.findall(r"nats://([\w-]+)-(\d+)\.([\w-]+):6222", config)
    assert sorted(int(i) for _, i, _ in routes) == list(range(spec["replicas"]))
    assert {(name, host) for name, _, host in routes} == {("nats", spec["serviceName"])}
    assert find(docs, "Service", spec["serviceName"])["spec"]["clusterIP"] == "None"

    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (claim,) = spec["volumeClaimTemplates"]
    assert mounts[claim["metadata"]["name"]] == settings["store_dir"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    config_volume = next(v for v in pod_spec(statefulset)["volumes"] if "configMap" in v)
    assert config_volume["configMap"]["name"] == "nats-config"
    assert container["args"] == ["--config", f"{mounts[config_volume['name']]}/nats.conf"]
    http_listen = re.search(r"^http: [\d.]+:(\d+)$", config, re.M)
    assert http_listen, "nats.conf: no monitoring port"
    monitor = int(http_listen.group(1))
    for kind in ("startup", "readiness", "liveness"):
        probe = container[f"{kind}Probe"]["httpGet"]
        assert probe["path"].startswith("/healthz")
        assert port_number(container, probe["port"]) == monitor
    labels = spec["template"]["metadata"]["labels"]
    assert selects(find(docs, "PodDisruptionBudget", "nats")["spec"]["selector"], labels)


def pods() -> dict[str, dict[str, str]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in base_docs()
        if d["kind"] in ("Deployment", "StatefulSet")
    }


def ingress_allowed(source: dict[str, str] | None, target: dict[str, str], port: int) -> bool:
    """NetworkPolicy ingress semantics for pods of one namespace (source None: outside)."""
    policies = [
        d["spec"]
        for d in base_docs()
        if d["kind"] == "NetworkPolicy"
        and selects(d["spec"]["podSelector"], target)
        and "Ingress" in d["spec"]["policyTypes"]
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy.get("ingress", []):
            peers = rule.get("from")
            peer_ok = not peers or any(
                source is not None
                and set(peer) == {"podSelector"}
                and selects(peer["podSelector"], source)
                for peer in peers
            )
            ports = rule.get("ports")
            if peer_ok and (not ports or any(p["port"] == port for p in ports)):
                return True
    return False


def test_k8s_network_policies_let_only_the_gateway_reach_the_services() -> None:
    labels = pods()
    gateway = labels["gateway"]
    for upstream in UPSTREAMS:
        target = labels[upstream]
        assert ingress_allowed(gateway, target, API_PORT)
        others = [name for name in labels if name != "gateway"]
        for other in others:
            assert not ingress_allowed(labels[other], target, API_PORT), f"{other} -> {upstream}"
        assert not ingress_allowed(None, target, API_PORT)
    for name in labels:
        assert ingress_allowed(labels[name], gateway, API_PORT)
    assert ingress_allowed(None, gateway, API_PORT)
    for name in SERVICES:
        assert ingress_allowed(labels[f"{name}-worker"], labels["nats"], 4222)
        assert not ingress_allowed(labels[name], labels["nats"], 4222)
        assert not ingress_allowed(gateway, labels[f"{name}-worker"], 8001)
    assert ingress_allowed(labels["nats"], labels["nats"], 6222)


def json_patch_target_exists(doc: dict[str, Any], pointer: str) -> bool:
    node: Any = doc
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return False
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def patch_targets(target: dict[str, Any]) -> list[dict[str, Any]]:
    matches = [d for d in base_docs() if d["kind"] == target["kind"]]
    if "name" in target:
        matches = [d for d in matches if d["metadata"]["name"] == target["name"]]
    if "labelSelector" in target:
        key, value = target["labelSelector"].split("=")
        matches = [d for d in matches if d["metadata"].get("labels", {}).get(key) == value]
    return matches


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_patches_and_replicas_hit_base_objects(name: str) -> None:
    kustomization = overlay(name)
    for patch in kustomization["patches"]:
        if "target" not in patch:
            continue
        targets = patch_targets(patch["target"])
        assert targets, patch["target"]
        for operation in yaml.safe_load(patch["patch"]):
            assert operation["op"] == "replace", operation
            for doc in targets:
                assert json_patch_target_exists(doc, operation["path"]), (doc_id(doc), operation)
    workloads = {
        d["metadata"]["name"] for d in base_docs() if d["kind"] in ("Deployment", "StatefulSet")
    }
    for replicas in kustomization["replicas"]:
        assert replicas["name"] in workloads
    images = {i["name"] for i in kustomization["images"]}
    assert images == {f"cpd-{s}" for s in SERVICES}


def kustomize_build(name: str) -> list[dict[str, Any]]:
    return kustomize(K8S / "overlays" / name)


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_builds_to_valid_kubernetes(name: str, tmp_path: Path) -> None:
    docs = kustomize_build(name)
    namespace = overlay(name)["namespace"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSIONS[0], strict=True)
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == namespace
        else:
            assert doc["metadata"]["namespace"] == namespace, doc_id(doc)
    namespaced = {doc_id(d) for d in docs if d["kind"] != "Namespace"}
    assert namespaced == {doc_id(d) for d in base_docs() if d["kind"] != "Namespace"}
    tags = {i["name"]: i for i in overlay(name)["images"]}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            (container,) = pod_spec(doc)["containers"]
            image = tags[container["image"].split(":")[0].rsplit("/", 1)[-1]]
            expected = f"{image.get('newName', image['name'])}:{image['newTag']}"
            assert container["image"] == expected
    replicas = {r["name"]: r["count"] for r in overlay(name)["replicas"]}
    for doc in docs:
        if doc["metadata"]["name"] in replicas and doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc["spec"]["replicas"] == replicas[doc["metadata"]["name"]]

    statefulset = find(docs, "StatefulSet", "nats")
    (container,) = pod_spec(statefulset)["containers"]
    assert [e["name"] for e in container["env"]] == ["POD_NAME", "GOMEMLIMIT"]
    config = k8s_nats_config(docs)
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always"
    routes = re.findall(r"nats://nats-(\d+)\.", config)
    if statefulset["spec"]["replicas"] == 1:
        assert "cluster" not in settings and not routes
    else:
        assert len(routes) == statefulset["spec"]["replicas"]
    path = tmp_path / "nats.conf"
    path.write_text(config)
    check = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "POD_NAME": "nats-0"},
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
