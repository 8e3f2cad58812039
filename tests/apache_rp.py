"""Apache httpd with mod_auth_openidc in front of a page, in its own process on a free port:
a relying party as operators run it, configured the way the manual shows."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from backend.infra.config import Settings
from tests.live import free_port
from tests.test_cli import latchkey

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
HAVE_APACHE = os.path.exists(APACHE) and (MODULES / "mod_auth_openidc.so").exists()

# What the protected application shows: the claims mod_auth_openidc hands it.
CLAIMS_PAGE = """<!doctype html><html><head><title>Protected</title></head><body>
<h1>Hello <span id="username"><!--#echo var="OIDC_CLAIM_preferred_username" --></span></h1>
<dl><dt>sub</dt><dd id="sub"><!--#echo var="OIDC_CLAIM_sub" --></dd>
<dt>acr</dt><dd id="acr"><!--#echo var="OIDC_CLAIM_acr" --></dd>
<dt>amr</dt><dd id="amr"><!--#echo var="OIDC_CLAIM_amr" --></dd></dl>
</body></html>
"""
SIGNED_OUT_PAGE = "<!doctype html><title>Bye</title><h1>Signed out of the platform</h1>\n"

# Apache on its own: no system configuration, its files in `root`.
SERVER = """\
ServerRoot "{root}"
DefaultRuntimeDir "{root}"
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
{user}
Listen 127.0.0.1:{port}
ServerName localhost:{port}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule include_module {modules}/mod_include.so
LoadModule auth_openidc_module {modules}/mod_auth_openidc.so
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 32
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Require all granted
</Directory>
<Files "*.shtml">
    Options +Includes
    ForceType text/html
    SetOutputFilter INCLUDES
</Files>
"""
# What the manual shows (docs/api/openid-connect.md), with the test's values.
PROTECTION = """\
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI http://localhost:{port}/protected/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid profile email"
OIDCPKCEMethod S256
<Location /protected>
    AuthType openid-connect
    Require valid-user
</Location>
"""


@dataclasses.dataclass(frozen=True)
class Site:
    url: str  # http://localhost:PORT
    root: Path  # the config, logs and pages

    def errors(self) -> str:
        """What Apache said: on the console before its log opened, then in the log."""
        logs = [self.root / "console.log", self.root / "error.log"]
        return "".join(log.read_text(errors="replace") for log in logs if log.exists())


@contextlib.contextmanager
def apache_protecting(settings: Settings, issuer: str) -> Iterator[Site]:
    """Apache on a free port, its /protected pages signed in through Latchkey at `issuer`;
    a client registered for it, as an operator would."""
    # Apache drops root for another user, which must read the pages: a directory outside
    # pytest's private one.
    with tempfile.TemporaryDirectory(prefix="latchkey-apache-") as made:
        root = Path(made)
        root.chmod(0o755)
        (root / "www" / "protected").mkdir(parents=True)
        (root / "www" / "protected" / "claims.shtml").write_text(CLAIMS_PAGE)
        (root / "www" / "signed-out.html").write_text(SIGNED_OUT_PAGE)
        for attempt in range(3):  # a rare clash on the port gets a new one
            port = free_port()
            url = f"http://localhost:{port}"
            (root / "error.log").unlink(missing_ok=True)  # the last attempt's
            client_id, secret = _register(settings, f"Apache {attempt}", url)
            (root / "httpd.conf").write_text(
                (SERVER + PROTECTION).format(
                    root=root,
                    port=port,
                    modules=MODULES,
                    user="User www-data\nGroup www-data" if os.geteuid() == 0 else "",
                    issuer=issuer,
                    client_id=client_id,
                    client_secret=secret,
                    passphrase=secrets.token_urlsafe(24),
                )
            )
            with (root / "console.log").open("wb") as console:
                process = subprocess.Popen(
                    [APACHE, "-DFOREGROUND", "-f", str(root / "httpd.conf")],
                    stdout=console,
                    stderr=subprocess.STDOUT,
                )
            site = Site(url, root)
            try:
                if _up(site, process):
                    break
            except BaseException:
                _stop(process)
                raise
            _stop(process)
            if attempt == 2:
                raise RuntimeError(f"Apache did not start:\n{site.errors()}")
        try:
            yield site
        except BaseException as failure:
            failure.add_note(f"Apache's log:\n{site.errors()}")
            raise
        finally:
            _stop(process)


def _register(settings: Settings, name: str, url: str) -> tuple[str, str]:
    made = latchkey(
        settings,
        "oidc-client",
        "create",
        name,
        "--redirect-uri",
        f"{url}/protected/redirect_uri",
        "--post-logout-redirect-uri",
        f"{url}/signed-out.html",
    )
    assert made.returncode == 0, made.stderr
    client_id = re.search(r"client_id: (\S+)", made.stdout).group(1)
    return client_id, re.search(r"client_secret: (\S+)", made.stdout).group(1)


def _up(site: Site, process: subprocess.Popen[bytes]) -> bool:
    """True once Apache answers; False when it gave up on the port."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "Address already in use" in site.errors():
                return False
            raise RuntimeError(f"Apache exited early:\n{site.errors()}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{site.url}/signed-out.html", timeout=1)
            return True
        time.sleep(0.1)
    raise RuntimeError(f"Apache did not answer within 15 seconds:\n{site.errors()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
