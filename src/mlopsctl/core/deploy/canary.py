"""Canary deploys, judged by the service's own metrics, on Docker Compose and on Swarm.

The new version starts beside the live one and, once healthy, answers under the same service
names on the environment's network, so the engine itself splits the traffic (Docker's DNS
across the containers, or across a swarm's tasks); there is no proxy of mlopsctl's. While both
serve, :mod:`.analysis` takes its samples of the canary's metrics. Then:

- **promote**: the new version becomes the live one as a blue-green switch does (Compose: the
  old colour leaves the names, drains through the bake and stops; Swarm: the stack is updated
  to the new version, then the canary services are removed);
- **abort**: the canary leaves the names, drains and is removed; the live version never
  stopped serving; exit 1 with one line per failed metric (its value, bound and samples).

The release row keeps every sample. A kill during the analysis leaves both serving; the next
deploy removes the canary (a canary's containers and services are labelled as such, and a
canary never keeps the names when a killed deploy left two colours under them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mlopsctl.core import proc
from mlopsctl.core.deploy import analysis, bluegreen, compose, engine, swarm

if TYPE_CHECKING:
    from mlopsctl.core.deploy.rollout import Attempt

CANARY_LABELS = {engine.CANARY: "true"}


def _on_sample(attempt: Attempt) -> Any:
    def show(sample: dict[str, Any]) -> None:
        parts = []
        for m in sample["metrics"]:
            value = "no data" if m["value"] is None else f"{m['value']:.4g}"
            parts.append(f"{m['name']} {value}{'' if m['ok'] else ' FAILED'}")
        p = attempt.plan
        attempt.tell(f"sample {sample['sample']}/{p.analysis.samples}: " + ", ".join(parts))

    return show


def _aborted(attempt: Attempt, verdict: analysis.Verdict, serving: str) -> None:
    rel = attempt.release
    rel.outcome = "aborted"
    rel.message = f"the canary was aborted: {verdict.reason}; {serving} still serves"
    attempt.outcome.failures = verdict.failures


# --- Compose ------------------------------------------------------------------------------


def deploy_compose(attempt: Attempt) -> None:
    p, rel = attempt.plan, attempt.release
    live = bluegreen.reconcile(attempt)
    if live is None:
        attempt.outcome.warnings.append(
            f"nothing serves {p.environment} yet: {p.version} goes live without a canary "
            "analysis (there is no traffic to compare)"
        )
        bluegreen.deploy(attempt)
        return
    started = bluegreen.start_colour(attempt, CANARY_LABELS, p.analysis.replicas)
    if started is None:
        return
    new_project, health = started
    serving = f"{live.version} ({live.colour})"
    c = compose.client()
    attempt.check_lock()
    network = engine.ensure_network(c, attempt.project, p.environment)
    canary = engine.colour_containers(c, new_project)
    old = [c.containers.get(name) for name in live.containers]
    try:
        engine.name(network, canary)  # both versions answer now
        attempt.tell(f"{p.version} answers beside {serving}; analysing")
        source = _compose_source(attempt, canary)
        verdict = analysis.run(p.analysis, source, lambda: compose.watch(new_project, 0),
                               on_sample=_on_sample(attempt))  # fmt: skip
    except BaseException:  # Ctrl-C, or the engine failing: the live version keeps serving
        _remove_compose_canary(attempt, network, canary, new_project)
        raise
    rel.samples = verdict.samples
    if not verdict.ok:
        _remove_compose_canary(attempt, network, canary, new_project)
        _aborted(attempt, verdict, serving)
        return
    attempt.check_lock()
    engine.unname(network, old)  # the promotion: the old colour leaves the names and drains
    if not all(engine.named(x, network) for x in canary):
        bluegreen.switch_back(attempt, network, old, canary, new_project)
        rel.message = f"the canary lost the service names on {network.name}; {serving} serves"
        return
    bluegreen.finish(attempt, network, new_project, canary, old, health, serving, live)


def _remove_compose_canary(attempt: Attempt, network: Any, canary: list[Any], project: str) -> None:
    engine.unname(network, canary)
    bluegreen._pause(attempt.plan.drain)
    engine.detach(network, canary)
    compose.remove_project(project)


def _compose_source(attempt: Attempt, canary: list[Any]) -> analysis.Source:
    a = attempt.plan.analysis
    if a.prometheus:
        return analysis.prometheus(a.prometheus, attempt.release.release)
    targets = []
    for x in canary:
        service = engine.service_of(x)
        if a.services and service not in a.services:
            continue
        x.reload()
        nets = (x.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        address = next((n.get("IPAddress") for n in nets.values() if n.get("IPAddress")), None)
        if address:
            targets.append((f"{service} ({x.name})",
                            f"http://{address}:{a.scrape_port}{a.scrape_path}"))  # fmt: skip
    return analysis.scraped(targets)


# --- Swarm --------------------------------------------------------------------------------


def canary_stack(stack: str) -> str:
    return f"{stack}-canary"


def remove_swarm_canaries(client: Any, stack: str, timeout: float = 60.0) -> None:
    """Remove the canary stack a killed or finished canary deploy left, and wait (bounded)
    until its tasks are gone (they leave the service names first, then drain and stop)."""
    import time

    name = canary_stack(stack)
    label = {"label": f"{swarm.STACK_LABEL}={name}"}
    if not client.services.list(filters=label) and not client.containers.list(filters=label):
        return
    proc.run(["docker", "stack", "rm", name], check=False)
    deadline = time.monotonic() + timeout
    while client.containers.list(all=True, filters=label) and time.monotonic() < deadline:
        time.sleep(0.25)


def deploy_swarm(attempt: Attempt) -> None:
    from mlopsctl.core.deploy import stack as stack_strategy

    p, rel = attempt.plan, attempt.release
    c = compose.client()
    stack = swarm.stack_name(attempt.project, p.environment)
    stack_strategy.settle(attempt.config, p.environment, attempt.store, running=False)
    remove_swarm_canaries(c, stack)
    live = swarm.services(c, stack, canaries=False)
    if not live:
        attempt.outcome.warnings.append(
            f"nothing serves {p.environment} yet: {p.version} goes live without a canary "
            "analysis (there is no traffic to compare)"
        )
        stack_strategy.deploy(attempt)
        return
    serving = p.live_version or "the live version"
    rel.colour = "canary"
    name = canary_stack(stack)
    try:
        problem = _start_swarm_canary(attempt, stack, name)
        if problem:
            rel.message = f"{problem}; the canary was removed, {serving} still serves"
            return
        attempt.tell(f"{p.version} answers beside {serving}; analysing")
        source = _swarm_source(attempt, c, name)
        verdict = analysis.run(p.analysis, source, lambda: _swarm_problem(c, name, p.analysis),
                               on_sample=_on_sample(attempt))  # fmt: skip
        rel.samples = verdict.samples
        if not verdict.ok:
            _aborted(attempt, verdict, serving)
            return
        attempt.check_lock()
        rel.colour = None
        stack_strategy.deploy(attempt, clean=False)  # the promotion: the engine's update
    finally:
        remove_swarm_canaries(c, stack)


def _start_swarm_canary(attempt: Attempt, stack: str, name: str) -> str | None:
    """Deploy the canary stack: every service of the compose file at the new version, with
    ``analysis.replicas`` tasks, on the live stack's networks under the same service names
    (and the scrape port published on its node). A problem when it does not come up."""
    import yaml

    p, rel = attempt.plan, attempt.release
    assert p.compose_file is not None
    file = attempt.root / p.compose_file
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    rendered = proc.run(["docker", "stack", "config", "-c", file.name], cwd=file.parent, env=env,
                        check=False)  # fmt: skip
    if rendered.returncode != 0:
        lines = (rendered.stderr or rendered.stdout or "").strip().splitlines()
        return f"docker stack config failed: {lines[-1] if lines else rendered.returncode}"
    labels = {**engine.release_labels(attempt.project, p.environment, p.version, rel.release,
                                      rel.git_commit, rel.user), **CANARY_LABELS}  # fmt: skip
    doc = canary_stack_doc(yaml.safe_load(rendered.stdout) or {}, stack, labels, p.analysis)
    text = yaml.safe_dump(doc, sort_keys=False)
    attempt.check_lock()
    cmd = ["docker", "stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", "-"]
    done = proc.run([*cmd, name], cwd=file.parent, env=env, input=text, check=False)
    if done.returncode != 0:
        lines = ((done.stderr or "") + (done.stdout or "")).strip().splitlines()
        return f"docker stack deploy of the canary failed: {lines[-1] if lines else ''}"
    return _wait_swarm_canary(compose.client(), name, p.analysis, p.health_timeout)


def canary_stack_doc(
    doc: dict[str, Any], stack: str, labels: dict[str, str], a: analysis.Analysis
) -> dict[str, Any]:
    """The canary stack from the environment's rendered stack file: each service at
    ``a.replicas`` tasks, labelled as the canary release, publishing nothing of the live
    service's but the scrape port (host mode, a port the engine picks), on the live stack's
    own networks (external here), where stack deploy gives it the same service name."""
    services = doc.get("services") or {}
    for spec in services.values():
        deploy = spec.setdefault("deploy", {})
        deploy["replicas"] = a.replicas
        deploy.pop("update_config", None)
        deploy["labels"] = {**(deploy.get("labels") or {}), **labels}
        spec["labels"] = {**(spec.get("labels") or {}), **labels}
        spec.pop("ports", None)  # the live services publish; the canary answers by name
        if a.scrape_port and not a.prometheus:
            spec["ports"] = [{"target": a.scrape_port, "mode": "host", "protocol": "tcp"}]
        if not spec.get("networks"):
            spec["networks"] = {"default": None}
    networks = {}
    for net in sorted({n for s in services.values() for n in (s.get("networks") or {})}):
        declared = (doc.get("networks") or {}).get(net) or {}
        networks[net] = {"external": True, "name": declared.get("name") or f"{stack}_{net}"}
    doc["networks"] = networks
    return doc


def _tasks(client: Any, name: str) -> list[tuple[Any, dict[str, Any]]]:
    import docker.errors

    out: list[tuple[Any, dict[str, Any]]] = []
    for s in client.services.list(filters={"label": f"{swarm.STACK_LABEL}={name}"}):
        try:
            out.extend((s, t) for t in s.tasks())
        except docker.errors.NotFound:
            continue  # removed meanwhile
    return out


def _wait_swarm_canary(client: Any, name: str, a: analysis.Analysis, timeout: float) -> str | None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = client.services.list(filters={"label": f"{swarm.STACK_LABEL}={name}"})
        running = {
            s.name: sum(
                1 for t in s.tasks(filters={"desired-state": "running"})
                if (t.get("Status") or {}).get("State") == "running"
            )
            for s in found
        }  # fmt: skip
        if found and all(n >= a.replicas for n in running.values()):
            return None
        problem = _swarm_problem(client, name, a)
        if problem and "failed" in problem:
            return problem
        if time.monotonic() >= deadline:
            waiting = ", ".join(k for k, n in running.items() if n < a.replicas) or name
            return f"{waiting}: not healthy within {timeout:g}s"
        time.sleep(0.5)


def _swarm_problem(client: Any, name: str, a: analysis.Analysis) -> str | None:
    """A canary task that failed (the engine replaces an unhealthy one: that is a failure)."""
    for service, task in _tasks(client, name):
        status = task.get("Status") or {}
        if status.get("State") in ("failed", "rejected"):
            why = status.get("Err") or status.get("Message") or status.get("State")
            return f"{service.name}: a task failed ({why})"
    return None


def _swarm_source(attempt: Attempt, client: Any, name: str) -> analysis.Source:
    a = attempt.plan.analysis
    if a.prometheus:
        return analysis.prometheus(a.prometheus, attempt.release.release)
    stack_prefix = f"{name}_"
    targets = []
    for service, task in _tasks(client, name):
        short = service.name.removeprefix(stack_prefix)
        if a.services and short not in a.services:
            continue
        if (task.get("DesiredState"), (task.get("Status") or {}).get("State")) != (
            "running",
            "running",
        ):
            continue
        ports = ((task.get("Status") or {}).get("PortStatus") or {}).get("Ports") or []
        port = next((x.get("PublishedPort") for x in ports
                     if x.get("TargetPort") == a.scrape_port), None)  # fmt: skip
        if not port:
            continue
        node = client.nodes.get(task["NodeID"]).attrs.get("Status", {}).get("Addr") or "127.0.0.1"
        if node == "0.0.0.0":
            node = "127.0.0.1"
        targets.append((f"{short} task {task['ID'][:12]}",
                        f"http://{node}:{port}{a.scrape_path}"))  # fmt: skip
    return analysis.scraped(targets)
