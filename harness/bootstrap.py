#!/usr/bin/env python3
"""Prepare this machine for the lab and the Molecule scenarios, idempotently.

On a fresh Debian 12 machine (as root) it installs Docker's engine and debootstrap from the OS packages when they
are missing, starts ``dockerd`` when no daemon answers, and builds the base images locally:

* ``dese-debian:bookworm``: a debootstrap rootfs imported with ``docker import`` (no registry is reachable);
* ``dese-debian-systemd:bookworm``: systemd as PID 1 plus python3 (harness/images/systemd);
* ``dese-debian-services:bookworm``: the heavy service packages pre-installed (harness/images/services).

Each image carries a label with the hash of its inputs; an image whose inputs did not change is reused, so a second
run takes seconds. Nothing is ever pulled from an image registry.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent
IMAGES_DIR = HARNESS_DIR / "images"
ROOTFS_IMAGE = "dese-debian:bookworm"
SYSTEMD_IMAGE = "dese-debian-systemd:bookworm"
SERVICES_IMAGE = "dese-debian-services:bookworm"
INPUTS_LABEL = "dese.inputs"
HOST_PACKAGES = ("docker.io", "debootstrap", "postgresql-15", "redis-server", "prometheus", "prometheus-alertmanager")
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
DOCKERD_LOG = Path("/var/log/dockerd.log")


def log(message: str) -> None:
    print(f"[harness] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    result = subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return result.returncode == 0


def ensure_host_packages() -> None:
    """Install the OS packages the harness and the unit tests use (docker, debootstrap, postgres, promtool, amtool)."""
    missing = [
        pkg for pkg in HOST_PACKAGES
        if subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True,
                          check=False).stdout.strip() != "install ok installed"
    ]
    if not missing:
        return
    log(f"installing host packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env,
        stdout=subprocess.DEVNULL)


def ensure_dockerd(timeout: float = 60.0) -> None:
    """Reuse a daemon that answers; otherwise start one in the background and wait for it."""
    if docker_answers():
        return
    log("starting dockerd in the background")
    with DOCKERD_LOG.open("ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if docker_answers():
            log("dockerd answers")
            return
        time.sleep(0.3)
    sys.exit(f"dockerd did not answer within {timeout:.0f}s; see {DOCKERD_LOG}")


def image_label(image: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "-f", f'{{{{ index .Config.Labels "{INPUTS_LABEL}" }}}}', image],
        capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def apt_sources_digest() -> hashlib._Hash:
    digest = hashlib.sha256()
    for source in APT_SOURCES:
        files = sorted(source.glob("*.sources")) + sorted(source.glob("*.list")) if source.is_dir() else [source]
        for path in files:
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest


def ensure_rootfs_image() -> str:
    """debootstrap a minimal bookworm and import it; the host's apt sources go in so updates match the host."""
    inputs = apt_sources_digest()
    inputs.update(b"minbase bookworm v1")
    wanted = inputs.hexdigest()[:16]
    if image_label(ROOTFS_IMAGE) == wanted:
        return wanted
    log(f"building {ROOTFS_IMAGE} with debootstrap (about 30 s)")
    with tempfile.TemporaryDirectory(prefix="dese-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs)], stdout=subprocess.DEVNULL)
        sources_dir = rootfs / "etc/apt/sources.list.d"
        sources_dir.mkdir(parents=True, exist_ok=True)
        for path in APT_SOURCES[0].glob("*.sources"):
            shutil.copy2(path, sources_dir / path.name)
        if any(sources_dir.glob("*.sources")):
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(["docker", "import", "--change", f"LABEL {INPUTS_LABEL}={wanted}", "-", ROOTFS_IMAGE], stdin=tar.stdout,
            stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            sys.exit("tar of the debootstrap rootfs failed")
    return wanted


def ensure_layer(image: str, context: Path, base_image: str, base_inputs: str) -> str:
    """Build a Dockerfile layer when its inputs (Dockerfile, context, base image) changed."""
    digest = hashlib.sha256(base_inputs.encode())
    for path in sorted(context.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(context)).encode())
            digest.update(path.read_bytes())
    wanted = digest.hexdigest()[:16]
    if image_label(image) == wanted:
        return wanted
    log(f"building {image}")
    run(["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "--label", f"{INPUTS_LABEL}={wanted}",
         "-t", image, str(context)], stdout=subprocess.DEVNULL)
    return wanted


def ensure_images() -> None:
    rootfs = ensure_rootfs_image()
    systemd = ensure_layer(SYSTEMD_IMAGE, IMAGES_DIR / "systemd", ROOTFS_IMAGE, rootfs)
    ensure_layer(SERVICES_IMAGE, IMAGES_DIR / "services", SYSTEMD_IMAGE, systemd)
    extra = HARNESS_DIR.parent / "tests" / "standin" / "build.py"
    if extra.is_file():
        run([sys.executable, str(extra)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", default="all", choices=("all", "docker", "images"))
    args = parser.parse_args()
    started = time.monotonic()
    if args.step in ("all", "docker"):
        ensure_host_packages()
        ensure_dockerd()
    if args.step in ("all", "images"):
        ensure_images()
    log(f"ready in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
