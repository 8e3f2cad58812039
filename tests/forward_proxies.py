"""nginx and Caddy in front of an application, each asking Latchkey's /auth/forward, in their
own processes on free ports with generated configurations; and the application: a server on
loopback that answers every request with the headers it received.

The protection blocks are what docs/operations/forward-auth.md shows (tests compare them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.live import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"
HAVE_NGINX = os.path.exists(NGINX)
HAVE_CADDY = os.path.exists(CADDY)

# What the manual shows for nginx: {latchkey} and {app} are the two addresses.
NGINX_PROTECTION = """\
# Every request asks Latchkey first; the application is told who it is.
auth_request /_latchkey;
auth_request_set $latchkey_user $upstream_http_x_latchkey_user;
auth_request_set $latchkey_user_id $upstream_http_x_latchkey_user_id;
auth_request_set $latchkey_email $upstream_http_x_latchkey_email;
auth_request_set $latchkey_name $upstream_http_x_latchkey_name;
auth_request_set $latchkey_groups $upstream_http_x_latchkey_groups;
auth_request_set $latchkey_account_type $upstream_http_x_latchkey_account_type;
auth_request_set $latchkey_language $upstream_http_x_latchkey_language;
auth_request_set $latchkey_auth $upstream_http_x_latchkey_auth;
auth_request_set $latchkey_scopes $upstream_http_x_latchkey_scopes;
auth_request_set $latchkey_login $upstream_http_x_latchkey_login;
# Set here, a client's own X-Latchkey-* never reaches the application.
proxy_set_header X-Latchkey-User $latchkey_user;
proxy_set_header X-Latchkey-User-Id $latchkey_user_id;
proxy_set_header X-Latchkey-Email $latchkey_email;
proxy_set_header X-Latchkey-Name $latchkey_name;
proxy_set_header X-Latchkey-Groups $latchkey_groups;
proxy_set_header X-Latchkey-Account-Type $latchkey_account_type;
proxy_set_header X-Latchkey-Language $latchkey_language;
proxy_set_header X-Latchkey-Auth $latchkey_auth;
proxy_set_header X-Latchkey-Scopes $latchkey_scopes;
proxy_set_header Host $http_host;
# A browser without a session goes to sign in, and comes back here afterwards.
error_page 401 = @latchkey_login;

location = /_latchkey {
    internal;
    auth_request off;
    proxy_pass {latchkey}/auth/forward;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    proxy_set_header X-Forwarded-Method $request_method;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
}

location = /_latchkey_staff {
    internal;
    auth_request off;
    proxy_pass {latchkey}/auth/forward?group=staff;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    proxy_set_header X-Forwarded-Method $request_method;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
}

location @latchkey_login {
    auth_request off;
    return 302 $latchkey_login;
}

location / {
    proxy_pass {app};
}

# Only members of the group staff.
location /staff/ {
    auth_request /_latchkey_staff;
    proxy_pass {app};
}
"""

# nginx on its own: no system configuration, its files under the prefix directory.
NGINX_SERVER = """\
worker_processes 1;
pid run/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log logs/access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
{protection}
    }}
}}
"""

# What the manual shows for Caddy.
CADDY_PROTECTION = """\
(latchkey) {
	# A client's own X-Latchkey-* never reaches the application.
	request_header -X-Latchkey-*
	forward_auth {latchkey} {
		uri {args.0}
		copy_headers {
			X-Latchkey-User
			X-Latchkey-User-Id
			X-Latchkey-Email
			X-Latchkey-Name
			X-Latchkey-Groups
			X-Latchkey-Account-Type
			X-Latchkey-Language
			X-Latchkey-Auth
			X-Latchkey-Scopes
		}
		# A browser without a session goes to sign in, and comes back here afterwards.
		@unauthenticated status 401
		handle_response @unauthenticated {
			redir {rp.header.X-Latchkey-Login} 302
		}
	}
}

{site} {
	# Only members of the group staff.
	handle /staff/* {
		route {
			import latchkey /auth/forward?group=staff
			reverse_proxy {app}
		}
	}
	handle {
		route {
			import latchkey /auth/forward
			reverse_proxy {app}
		}
	}
}
"""

# Caddy on its own: no admin endpoint, no certificates, its files in the directory.
CADDY_GLOBAL = """\
{{
	admin off
	auto_https off
	storage file_system {root}/data
}}

"""


@dataclasses.dataclass(frozen=True)
class Proxy:
    url: str  # http://127.0.0.1:PORT
    root: Path
    log_files: tuple[str, ...]

    def errors(self) -> str:
        logs = [self.root / name for name in self.log_files]
        return "".join(log.read_text(errors="replace") for log in logs if log.exists())


def nginx_config(port: int, latchkey: str, app: str) -> str:
    protection = NGINX_PROTECTION.replace("{latchkey}", latchkey).replace("{app}", app)
    indented = "\n".join(f"        {line}" if line else "" for line in protection.splitlines())
    return NGINX_SERVER.format(port=port, protection=indented)


def caddy_config(root: Path, port: int, latchkey: str, app: str) -> str:
    site = CADDY_PROTECTION.replace("{site} {\n", f"http://127.0.0.1:{port} {{\n\tbind 127.0.0.1\n")
    site = site.replace("{latchkey}", _host_port(latchkey)).replace("{app}", _host_port(app))
    return CADDY_GLOBAL.format(root=root) + site


def _host_port(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


@contextlib.contextmanager
def nginx_in_front(latchkey: str, app: str, port: int | None = None) -> Iterator[Proxy]:
    with tempfile.TemporaryDirectory(prefix="latchkey-nginx-") as made:
        root = Path(made)
        for folder in ("run", "logs", "tmp"):
            (root / folder).mkdir()

        def command(port: int) -> list[str]:
            (root / "nginx.conf").write_text(nginx_config(port, latchkey, app))
            return [NGINX, "-p", f"{root}/", "-c", "nginx.conf", "-g", "daemon off;"]

        with _running(root, command, ("console.log", "logs/error.log"), port) as proxy:
            yield proxy


@contextlib.contextmanager
def caddy_in_front(latchkey: str, app: str) -> Iterator[Proxy]:
    with tempfile.TemporaryDirectory(prefix="latchkey-caddy-") as made:
        root = Path(made)

        def command(port: int) -> list[str]:
            (root / "Caddyfile").write_text(caddy_config(root, port, latchkey, app))
            return [CADDY, "run", "--config", str(root / "Caddyfile"), "--adapter", "caddyfile"]

        with _running(root, command, ("console.log",)) as proxy:
            yield proxy


@contextlib.contextmanager
def _running(
    root: Path, command, log_files: tuple[str, ...], chosen: int | None = None
) -> Iterator[Proxy]:
    """The proxy in the foreground on a free port (a rare clash gets another port), or on
    the `chosen` one (a test that must name the proxy's address before it starts)."""
    # Caddy writes its autosave and certificates under these, never in the user's home.
    env = {**os.environ, "XDG_CONFIG_HOME": str(root), "XDG_DATA_HOME": str(root)}
    for attempt in range(3):
        port = chosen or free_port()
        for name in log_files:
            (root / name).unlink(missing_ok=True)
        with (root / "console.log").open("wb") as console:
            process = subprocess.Popen(
                command(port), stdout=console, stderr=subprocess.STDOUT, env=env
            )
        proxy = Proxy(f"http://127.0.0.1:{port}", root, log_files)
        try:
            if _up(proxy, process):
                break
        except BaseException:
            _stop(process)
            raise
        _stop(process)
        if attempt == 2:
            raise RuntimeError(f"the proxy did not start:\n{proxy.errors()}")
    try:
        yield proxy
    except BaseException as failure:
        failure.add_note(f"The proxy's log:\n{proxy.errors()}")
        raise
    finally:
        _stop(process)


def _up(proxy: Proxy, process: subprocess.Popen[bytes]) -> bool:
    """True once the proxy answers; False when it gave up on the port."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "address already in use" in proxy.errors().lower():
                return False
            raise RuntimeError(f"the proxy exited early:\n{proxy.errors()}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{proxy.url}/", timeout=1)
            return True
        time.sleep(0.1)
    raise RuntimeError(f"the proxy did not answer within 15 seconds:\n{proxy.errors()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Echo(http.server.BaseHTTPRequestHandler):
    """The protected application: its answer is what it was asked, as JSON."""

    def _echo(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": self.rfile.read(length).decode(errors="replace"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _echo

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@contextlib.contextmanager
def echo_application() -> Iterator[str]:
    """The application on a free loopback port; its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
