"""The page's front-end files, fetched once from the npm registry into solara's asset cache.

Solara's page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome) through
the server, which fetches each file from a public CDN on first use and caches it. On a machine
that reaches package registries but not that CDN (CI, a school network) the page stays blank,
so before the server starts the packages the page template names are put into the same cache
with `npm pack`. Solara then serves them from the cache and never asks the CDN.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import solara.server
from solara.server import settings

TEMPLATE = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
CDN_REFERENCE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")
FALLBACK_CACHE = Path.home() / ".cache" / "sim-dashboard" / "solara-cdn"


def packages() -> list[str]:
    """The npm package specs the page needs, e.g. '@widgetti/solara-vuetify3-app@5.2.0', 'requirejs@2.3.6'."""
    specs = set(CDN_REFERENCE.findall(TEMPLATE.read_text(encoding="utf-8")))
    if settings.assets.fontawesome_enabled:
        specs.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(specs)


def cache_dir() -> Path:
    """Solara's asset cache, or a per-user one when that is not writable (then told to solara by env)."""
    configured = Path(settings.assets.proxy_cache_dir)
    existing = next(p for p in (configured, *configured.parents) if p.exists())
    return configured if os.access(existing, os.W_OK) else FALLBACK_CACHE


def missing(cache: Path, specs: list[str]) -> list[str]:
    """The packages not yet unpacked in the cache."""
    return [spec for spec in specs if not (cache / spec / "package.json").is_file()]


def fetch(spec: str, cache: Path) -> None:
    """`npm pack` one package and unpack it to cache/<spec>/, renamed into place when complete."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp], capture_output=True,
                             text=True, timeout=600, check=True)
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        target = cache / spec
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(unpacked / "package", target)


def ensure(env: dict[str, str]) -> str | None:
    """Put missing front-end packages in the cache; returns a one-line notice if that was not possible.

    `env` is the server's environment: it learns the cache's place when it is not solara's default.
    """
    cache = cache_dir()
    if cache != Path(settings.assets.proxy_cache_dir):
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(cache)
    todo = missing(cache, packages())
    if not todo:
        return None
    if shutil.which("npm") is None:
        return f"npm not found: the page will fetch {', '.join(todo)} from the internet instead"
    print(f"Fetching the page's front-end files once with npm: {', '.join(todo)}", flush=True)
    for spec in todo:
        try:
            fetch(spec, cache)
        except (OSError, subprocess.SubprocessError, tarfile.TarError, IndexError) as err:
            reason = (getattr(err, "stderr", "") or str(err)).strip().splitlines()
            return f"could not fetch {spec} with npm ({reason[-1] if reason else type(err).__name__})"
    return None
