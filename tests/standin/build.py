#!/usr/bin/env python3
"""Build the stand-in app images and export them as archives, rebuilding only what changed.

* ``dese-standin:base``: ``dese-debian:bookworm`` + python3, psycopg2, redis, curl and ``app/`` (the one heavy layer);
* ``dese-standin:1``, ``dese-standin:2``, ``dese-standin:3-broken``: an ENV-only layer on top (``APP_VERSION``, and
  ``STANDIN_BROKEN=1`` for the broken one, whose health endpoints fail so a health gate must catch it);
* ``.cache/images/dese-standin-<tag>.tar`` (repo-relative): ``docker save`` of each tag, for ``docker_image_load``.

Every image carries a label with the hash of its inputs (Dockerfile, app/, this script, the base image id), and each
archive a sidecar ``.inputs`` file: a second run with unchanged inputs only inspects and takes about a second.
Nothing is pulled from a registry. ``harness/bootstrap.py`` calls this script when it exists.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ARCHIVE_DIR = REPO / ".cache" / "images"
BASE_IMAGE = "dese-debian:bookworm"
REPOSITORY = "dese-standin"
BASE_TAG = f"{REPOSITORY}:base"
INPUTS_LABEL = "dese.inputs"
# tag -> environment baked into its last layer
TAGS = {
    "1": {"APP_VERSION": "1"},
    "2": {"APP_VERSION": "2"},
    "3-broken": {"APP_VERSION": "3", "STANDIN_BROKEN": "1"},
}


def log(message: str) -> None:
    print(f"[standin] {message}", flush=True)


def inspect(image: str, fmt: str) -> str | None:
    result = subprocess.run(["docker", "image", "inspect", "-f", fmt, image], capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def label(image: str) -> str | None:
    return inspect(image, f'{{{{ index .Config.Labels "{INPUTS_LABEL}" }}}}')


def base_inputs() -> str:
    base_id = inspect(BASE_IMAGE, "{{ .Id }}")
    if not base_id:
        sys.exit(f"{BASE_IMAGE} is missing: run harness/bootstrap.py first")
    digest = hashlib.sha256(base_id.encode())
    digest.update(Path(__file__).read_bytes())
    for path in [HERE / "Dockerfile", HERE / ".dockerignore", *sorted((HERE / "app").rglob("*"))]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(HERE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def docker_build(args: list[str], stdin: str | None = None) -> None:
    """docker build, quiet unless it fails (the legacy builder's deprecation notice is noise here)."""
    result = subprocess.run(["docker", "build", *args], input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"docker build {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def build_base(wanted: str, force: bool) -> bool:
    if not force and label(BASE_TAG) == wanted:
        return False
    log(f"building {BASE_TAG}")
    docker_build(["--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--label", f"{INPUTS_LABEL}={wanted}",
                  "-t", BASE_TAG, str(HERE)])
    return True


def tag_inputs(base: str, tag: str) -> str:
    env = TAGS[tag]
    return hashlib.sha256(f"{base}|{tag}|{sorted(env.items())}".encode()).hexdigest()[:16]


def build_tag(tag: str, wanted: str, force: bool) -> bool:
    image = f"{REPOSITORY}:{tag}"
    if not force and label(image) == wanted:
        return False
    env = " ".join(f"{key}={value}" for key, value in TAGS[tag].items())
    dockerfile = (f"FROM {BASE_TAG}\nENV {env}\n"
                  f"LABEL {INPUTS_LABEL}={wanted} org.opencontainers.image.version={tag} "
                  "org.opencontainers.image.title=dese-standin\n")
    log(f"building {image}")
    docker_build(["-t", image, "-"], stdin=dockerfile)
    return True


def export(tag: str, wanted: str, force: bool) -> Path:
    archive = ARCHIVE_DIR / f"{REPOSITORY}-{tag}.tar"
    stamp = archive.with_name(archive.name + ".inputs")
    if not force and archive.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return archive
    ARCHIVE_DIR.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    log(f"exporting {REPOSITORY}:{tag} to {archive.relative_to(REPO)}")
    subprocess.run(["docker", "save", "-o", str(partial), f"{REPOSITORY}:{tag}"], check=True)
    partial.chmod(0o644)
    partial.replace(archive)
    stamp.write_text(wanted + "\n")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild and re-export even when nothing changed")
    parser.add_argument("--no-export", action="store_true", help="build the images only, write no archives")
    parser.add_argument("tags", nargs="*", choices=[[], *TAGS], help="tags to build (default: all)")
    args = parser.parse_args()
    started = time.monotonic()
    base = base_inputs()
    rebuilt = build_base(base, args.force)
    for tag in args.tags or list(TAGS):
        wanted = tag_inputs(base, tag)
        build_tag(tag, wanted, args.force or rebuilt)
        if not args.no_export:
            export(tag, wanted, args.force)
    log(f"images ready in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
