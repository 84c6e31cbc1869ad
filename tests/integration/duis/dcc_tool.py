"""The DCC Boxed signing tool (`@smartdcc/duis-sign-wrap` on npm; its `dist/tool.jar`).

Installed with npm into a cache directory outside the repository when missing
(`FWO_TEST_NPM_CACHE`, default `~/.cache/fwo-tests/npm`), then run with Java:
`java -cp tool.jar uk.co.smartdcc.boxed.xmldsig.Validate FILE` (XSD and signature; exit 0
when valid, 10 when not) and `... Sign FILE --preserveCounter CERT KEY` (the signed
document on stdout).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "@smartdcc/duis-sign-wrap"
CACHE = Path(os.environ.get("FWO_TEST_NPM_CACHE", Path.home() / ".cache" / "fwo-tests" / "npm"))
MAIN = "uk.co.smartdcc.boxed.xmldsig"


class ToolMissingError(Exception):
    """Java, npm or the package cannot be had on this machine."""


@dataclass(frozen=True)
class DccTool:
    """The tool's jar and the Java that runs it."""

    java: str
    jar: Path

    def run(self, mode: str, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
        """Run `Validate` or `Sign` with arguments; the finished process."""
        return subprocess.run([self.java, "-cp", str(self.jar), f"{MAIN}.{mode}",
                               *map(str, args)], capture_output=True, timeout=120, check=False)

    def validate(self, document: Path) -> subprocess.CompletedProcess[bytes]:
        """XSD and signature check of a signed DUIS file (the tool finds the certificate)."""
        return self.run("Validate", document)

    def sign(self, document: Path, cert: Path, key: Path) -> bytes:
        """The document signed with `cert`/`key`, keeping its counter."""
        done = self.run("Sign", document, "--preserveCounter", cert, key)
        if done.returncode != 0:
            raise AssertionError(f"the DCC tool could not sign {document.name}: "
                                 f"{done.stderr.decode(errors='replace')[-400:]}")
        return done.stdout


def install(cache: Path = CACHE) -> DccTool:
    """The tool, installed with npm into `cache` first when it is not there yet."""
    java = shutil.which("java")
    if java is None:
        raise ToolMissingError("java is not on PATH")
    jar = cache / "node_modules" / "@smartdcc" / "duis-sign-wrap" / "dist" / "tool.jar"
    if not jar.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise ToolMissingError("npm is not on PATH (needed once to install the tool)")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit",
                               "--no-fund", PACKAGE], capture_output=True, text=True,
                              timeout=600, check=False)
        if done.returncode != 0 or not jar.is_file():
            raise ToolMissingError(f"npm install {PACKAGE} failed: {done.stderr[-400:]}")
    return DccTool(java, jar)
