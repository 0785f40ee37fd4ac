"""The page's front-end files, fetched once from the npm registry into solara's asset cache.

Solara's page loads its JavaScript, CSS and fonts (the Vuetify app, RequireJS, Font Awesome,
and ECharts for the charts) through the server, which fetches each file from a public CDN on
first use. On a machine that reaches package registries but not that CDN (CI, a school network)
the page would stay blank, so before the server starts the packages the page needs are fetched
with `npm pack` and only the files the page loads are unpacked into the same cache. Solara then
serves them from the cache and never asks the CDN.

Only the Vuetify app matching the installed ipyvue (Vue 3 or Vue 2) is fetched, and of each
package only the production files: no source maps, no debug builds, no other ipywidgets major.
The `solara-assets` wheel on PyPI ships these files too, but for an older solara (other app
versions than this solara's page asks for) and with every package in full (55 MB).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import ipywidgets
import solara.server
from solara.server import server, settings

TEMPLATE = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
CDN_REFERENCE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")
FALLBACK_CACHE = Path.home() / ".cache" / "sim-dashboard" / "solara-cdn"
ECHARTS = "echarts@5.4.0"  # the version solara's FigureEcharts loads (solara/components/echarts.vue)
WIDGETS = ipywidgets.__version__.split(".")[0]  # the page loads the app built for this ipywidgets major
APP = "solara-vuetify3-app" if server.vue3 else "solara-vuetify-app"
FONT = r"[\w-]+\.(?:woff2?|ttf|eot|svg|otf)"
PAGE_FILES = {  # package name -> the files of it the page loads, relative to the package
    f"@widgetti/{APP}": rf"dist/(?:main{WIDGETS}\.css|fonts\.css|(?:[\w-]+\.)?solara-vuetify-app{WIDGETS}\.min\.js"
                        rf"|{FONT})",
    "requirejs": r"require\.js",
    "font-awesome": rf"css/font-awesome\.min\.css|fonts/{FONT}",
    "echarts": r"dist/echarts(?:\.min)?\.js",  # the page loads echarts.js; an exported page inlines .min.js
}


def name(spec: str) -> str:
    """'@widgetti/x@1.2' -> '@widgetti/x'."""
    return spec.rsplit("@", 1)[0]


def packages() -> list[str]:
    """The npm package specs the page loads, e.g. '@widgetti/solara-vuetify3-app@5.2.0', 'echarts@5.4.0'."""
    specs = {s for s in CDN_REFERENCE.findall(TEMPLATE.read_text(encoding="utf-8")) if name(s) in PAGE_FILES}
    if settings.assets.fontawesome_enabled:
        specs.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(specs | {ECHARTS})


def cache_dir() -> Path:
    """Solara's asset cache, or a per-user one when that is not writable (then told to solara by env)."""
    configured = Path(settings.assets.proxy_cache_dir)
    existing = next(p for p in (configured, *configured.parents) if p.exists())
    return configured if os.access(existing, os.W_OK) else FALLBACK_CACHE


def missing(cache: Path, specs: list[str]) -> list[str]:
    """The packages not yet unpacked in the cache (package.json is written last)."""
    return [spec for spec in specs if not (cache / spec / "package.json").is_file()]


def wanted(spec: str, member: str) -> bool:
    """Whether a tarball member ('package/dist/x.js') is a file the page loads (package.json marks completion)."""
    inside = member.removeprefix("package/")
    return inside == "package.json" or re.fullmatch(PAGE_FILES[name(spec)], inside) is not None


def fetch(spec: str, cache: Path) -> int:
    """`npm pack` one package, unpack the page's files of it to cache/<spec>/; returns the bytes unpacked."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp], capture_output=True,
                             text=True, timeout=600, check=True)
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and wanted(spec, m.name)]
            tar.extractall(unpacked, members=members, filter="data")
        target = cache / spec
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # an older, complete-looking copy without package.json: replace it
            shutil.rmtree(target)
        os.replace(unpacked / "package", target)
        return sum(m.size for m in members)


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
        return (f"npm (Node.js) not found, so {', '.join(todo)} cannot be fetched from the npm registry: the page "
                "will ask a public CDN for them, and stays blank without internet (apt-get install npm)")
    print(f"Fetching the page's front-end files once with npm: {', '.join(todo)}", flush=True)
    for spec in todo:
        try:
            size = fetch(spec, cache)
        except (OSError, subprocess.SubprocessError, tarfile.TarError, IndexError) as err:
            reason = (getattr(err, "stderr", "") or str(err)).strip().splitlines()
            return f"could not fetch {spec} with npm ({reason[-1] if reason else type(err).__name__})"
        print(f"  {spec}: {size / 1e6:.1f} MB of files the page loads", flush=True)
    return None

