#!/usr/bin/python3
# Managed by the dese.ea_plan.docker role.
"""Validate a dockerd configuration file before it replaces /etc/docker/daemon.json.

Usage: docker-daemon-check FILE

Docker >= 23 has ``dockerd --validate``: when the installed dockerd knows it, its verdict is final. Debian bookworm's
docker.io (20.10) does not, so this script then checks what dockerd 20.10 itself refuses at start:
* the file is a JSON object;
* every key is a daemon option (the flag names of the installed ``dockerd --help``, or the 20.10 list below when
  dockerd is not installed yet), with dockerd's plural names for repeatable flags (``log-opts``, ``hosts``, ...);
* value types (booleans, integers, strings, lists, maps of strings: ``log-opts`` values must be strings);
* no option is set both here and as a flag of the systemd unit (Debian's unit passes ``-H fd://`` and
  ``--containerd``: dockerd refuses to start when daemon.json sets ``hosts`` or ``containerd`` too).
Exit 0 when valid; otherwise exit 1 with one line per problem.
"""

import json
import re
import shutil
import subprocess
import sys

# dockerd 20.10 flags and their value types (from `dockerd --help`), used when dockerd is not installed yet.
FLAGS_20_10 = {
    "add-runtime": "runtime", "allow-nondistributable-artifacts": "list", "api-cors-header": "string",
    "authorization-plugin": "list", "bip": "string", "bridge": "string", "cgroup-parent": "string",
    "containerd": "string", "containerd-namespace": "string", "containerd-plugins-namespace": "string",
    "cpu-rt-period": "int", "cpu-rt-runtime": "int", "cri-containerd": "bool", "data-root": "string",
    "debug": "bool", "default-address-pool": "pool-options", "default-cgroupns-mode": "string",
    "default-gateway": "ip", "default-gateway-v6": "ip", "default-ipc-mode": "string", "default-runtime": "string",
    "default-shm-size": "bytes", "default-ulimit": "ulimit", "dns": "list", "dns-opt": "list", "dns-search": "list",
    "exec-opt": "list", "exec-root": "string", "experimental": "bool", "fixed-cidr": "string",
    "fixed-cidr-v6": "string", "group": "string", "host": "list", "host-gateway-ip": "ip", "icc": "bool",
    "init": "bool", "init-path": "string", "insecure-registry": "list", "ip": "ip", "ip-forward": "bool",
    "ip-masq": "bool", "ip6tables": "bool", "iptables": "bool", "ipv6": "bool", "label": "list",
    "live-restore": "bool", "log-driver": "string", "log-level": "string", "log-opt": "map",
    "max-concurrent-downloads": "int", "max-concurrent-uploads": "int", "max-download-attempts": "int",
    "metrics-addr": "string", "mtu": "int", "network-control-plane-mtu": "int", "no-new-privileges": "bool",
    "node-generic-resource": "list", "oom-score-adjust": "int", "pidfile": "string", "raw-logs": "bool",
    "registry-mirror": "list", "rootless": "bool", "seccomp-profile": "string", "selinux-enabled": "bool",
    "shutdown-timeout": "int", "storage-driver": "string", "storage-opt": "list",
    "swarm-default-advertise-addr": "string", "tls": "bool", "tlsverify": "bool", "tlscacert": "string",
    "tlscert": "string", "tlskey": "string", "userland-proxy": "bool", "userland-proxy-path": "string",
    "userns-remap": "string",
}
# Repeatable flags whose daemon.json key is a plural (moby's config struct json tags).
PLURAL = {
    "add-runtime": "runtimes", "authorization-plugin": "authorization-plugins",
    "default-address-pool": "default-address-pools", "default-ulimit": "default-ulimits", "dns-opt": "dns-opts",
    "exec-opt": "exec-opts", "host": "hosts", "insecure-registry": "insecure-registries", "label": "labels",
    "log-opt": "log-opts", "node-generic-resource": "node-generic-resources", "registry-mirror": "registry-mirrors",
    "storage-opt": "storage-opts",
}
# Keys that exist only in the file (or as hidden flags) and the flags that have no place in it.
FILE_ONLY = {"features": "object", "builder": "object", "cluster-store": "string", "cluster-advertise": "string",
             "cluster-store-opts": "map", "graph": "string"}
NOT_IN_FILE = {"config-file", "help", "version"}
SHORT_FLAGS = {"-H": "host", "-D": "debug", "-G": "group", "-b": "bridge", "-l": "log-level"}
JSON_TYPE = {"bool": bool, "int": int, "string": str, "ip": str, "bytes": str, "list": list, "map": dict,
             "runtime": dict, "ulimit": dict, "pool-options": list, "object": dict}
FLAG_LINE = re.compile(r"^\s+(?:-\w, )?--([a-z0-9-]+)(?: ([a-z][a-z-]*))?(?:\s{2,}|\s*$)")


def run(cmd):
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30,
                                env={"COLUMNS": "200", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result


def native_validate(path):
    """dockerd --validate's verdict (True/False and its output), or None when this dockerd lacks the flag."""
    if not shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin"):
        return None
    result = run(["dockerd", "--validate", "--config-file", path])
    if result is None:
        return None
    output = (result.stdout + result.stderr).strip()
    if "unknown flag" in output:
        return None
    return result.returncode == 0, output


def known_options():
    """daemon.json key -> type, from the installed dockerd when there is one."""
    flags = dict(FLAGS_20_10)
    result = run(["dockerd", "--help"]) if shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin") else None
    if result is not None and result.returncode == 0:
        parsed = {}
        for line in result.stdout.splitlines():
            match = FLAG_LINE.match(line)
            if match:
                parsed[match.group(1)] = match.group(2) or "bool"
        if len(parsed) > 20:
            flags = parsed
    options = {PLURAL.get(flag, flag): kind for flag, kind in flags.items() if flag not in NOT_IN_FILE}
    options.update(FILE_ONLY)
    return options


def unit_flags():
    """Option names the systemd unit passes as flags (dockerd refuses them in daemon.json too)."""
    result = run(["systemctl", "cat", "docker.service"])
    if result is None or result.returncode != 0:
        return set()
    exec_start = ""
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("ExecStart="):
            exec_start = line[len("ExecStart="):]  # a later drop-in replaces the earlier line
    names = set()
    for token in exec_start.split():
        if token.startswith("--"):
            names.add(token[2:].split("=", 1)[0])
        elif token in SHORT_FLAGS:
            names.add(SHORT_FLAGS[token])
    return {PLURAL.get(name, name) for name in names}


def check(config, options, flags):
    problems = []
    if not isinstance(config, dict):
        return ["the file must hold a JSON object"]
    for key, value in config.items():
        kind = options.get(key)
        if kind is None:
            problems.append(f"unknown option {key!r} (dockerd refuses directives that match no configuration option)")
            continue
        expected = JSON_TYPE.get(kind, object)
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{key!r} must be an integer, got {json.dumps(value)}")
        elif expected is not int and not isinstance(value, expected):
            problems.append(f"{key!r} must be a JSON {expected.__name__.replace('dict', 'object')}, got {json.dumps(value)}")
        elif kind == "map" and any(not isinstance(v, str) for v in value.values()):
            bad = ", ".join(k for k, v in value.items() if not isinstance(v, str))
            problems.append(f"{key!r} values must be strings (quote them): {bad}")
        elif kind == "list" and any(not isinstance(v, str) for v in value):
            problems.append(f"{key!r} must be a list of strings")
        if key in flags:
            problems.append(f"{key!r} is also set as a flag in docker.service: dockerd would refuse to start "
                            "(remove it here or change the unit with a drop-in)")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"{path}: not valid JSON: {exc}")
        return 1
    native = native_validate(path)
    if native is not None:
        ok, output = native
        print(f"{path}: dockerd --validate: {output or ('ok' if ok else 'failed')}")
        return 0 if ok else 1
    problems = check(config, known_options(), unit_flags())
    for problem in problems:
        print(f"{path}: {problem}")
    if not problems:
        print(f"{path}: ok ({len(config)} options)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
