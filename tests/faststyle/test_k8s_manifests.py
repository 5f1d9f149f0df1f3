"""serving/k8s: every manifest is valid against the Kubernetes schemas (offline, kubernetes-validate's
bundled schemas, strict: unknown fields are errors), and ports, model name, paths, image and
flags agree with serving/models.config, batching_parameters.txt and docker-compose.yml."""

import re
from pathlib import Path

import pytest
import tensorflow as tf
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

SERVING = Path(__file__).resolve().parents[2] / "serving"
K8S = SERVING / "k8s"
#: The Kubernetes versions the manifests are checked against (README: "validated against ...").
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0", "1.37.0")
MANIFESTS = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _load(name):
    return yaml.safe_load((K8S / name).read_text())


def _by_kind():
    return {doc["kind"]: doc for doc in map(_load, MANIFESTS)}


def _without_comments(text):
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _models_config():
    text = (SERVING / "models.config").read_text()
    return re.search(r'name:\s*"([^"]+)"', text).group(1), re.search(r'base_path:\s*"([^"]+)"', text).group(1)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid(name, version):
    document = _load(name)
    kubernetes_validate.validate(document, version, strict=True)  # raises ValidationError


def test_validator_rejects_a_broken_manifest():
    deployment = _by_kind()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8500"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    deployment = _by_kind()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["gpu"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest():
    assert sorted(_load("kustomization.yaml")["resources"]) == MANIFESTS
    assert set(_by_kind()) == {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim",
                               "PodDisruptionBudget", "Service"}


def test_image_is_pinned_to_the_exporting_tensorflow_and_matches_compose():
    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text())["services"]["tfserving"]
    container = _by_kind()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    major, minor = tf.__version__.split(".")[:2]
    assert container["image"] == compose["image"] == f"tensorflow/serving:{major}.{minor}.0-gpu"


def test_ports_model_name_and_paths_agree():
    kinds = _by_kind()
    model, base_path = _models_config()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = dict(arg.lstrip("-").split("=", 1) for arg in container["args"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": int(args["port"]), "http": int(args["rest_api_port"])} == {"grpc": 8500, "http": 8501}
    service = {p["name"]: (p["port"], p["targetPort"]) for p in kinds["Service"]["spec"]["ports"]}
    assert service == {"grpc": (8500, "grpc"), "http": (8501, "http")}
    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text())["services"]["tfserving"]
    assert sorted(int(p.split(":")[-1].split()[0]) for p in compose["ports"]) == [8500, 8501]
    # the model volume is mounted where models.config looks, as in the compose file
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["models"] == base_path == f"/models/{model}"
    targets = [v.split(":")[-2] if v.endswith((":ro", ":rw")) else v.split(":")[-1] for v in compose["volumes"]]
    assert base_path in targets
    # the config files are where the flags point, in both
    config_dir = mounts["config"]
    assert args["model_config_file"] == f"{config_dir}/models.config"
    assert args["batching_parameters_file"] == f"{config_dir}/batching_parameters.txt"
    compose_args = dict(a.lstrip("-").split("=", 1) for a in compose["command"])
    assert args["monitoring_config_file"] == f"{config_dir}/monitoring.config"
    for flag in ("model_config_file", "batching_parameters_file", "monitoring_config_file", "enable_batching",
                 "enable_model_warmup"):
        assert args[flag] == compose_args[flag], flag
    assert args["enable_batching"] == args["enable_model_warmup"] == "true"
    # probes ask the REST model-status endpoint of this model
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": f"/v1/models/{model}", "port": "http"}
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == kinds["PersistentVolumeClaim"]["metadata"]["name"]
    assert volumes["config"]["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"]


def test_config_map_holds_the_serving_files():
    data = _by_kind()["ConfigMap"]["data"]
    for name in ("models.config", "batching_parameters.txt", "monitoring.config"):
        assert _without_comments(data[name]) == _without_comments((SERVING / name).read_text()), (
            f"serving/k8s/configmap.yaml is out of date: copy serving/{name} into its data.{name}")


def test_prometheus_scrapes_the_monitoring_path():
    """The pod's scrape annotations name the REST port and the path monitoring.config enables."""
    from kerasviz.serving.config import read_monitoring_config

    annotations = _by_kind()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "8501"
    assert annotations["prometheus.io/path"] == read_monitoring_config(str(SERVING / "monitoring.config"))


def test_selectors_match_the_pods():
    kinds = _by_kind()
    labels = kinds["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert kinds["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", kinds["Deployment"]["metadata"]["name"])
