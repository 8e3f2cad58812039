"""GraphiQL on GET /graphql, all of it from our own origin.

The page, its script and its stylesheet are ours; GraphiQL and React come from the npm
registry (`web/package.json` and its lockfile) and are served from `web/node_modules`.
GraphiQL 3 ships a browser build (UMD) that runs as a plain script beside React 18's, so no
bundler is needed; later GraphiQL releases are ES modules built on Monaco, which only work
through a bundler.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from web import content_security
from web.templating import templates

NODE_MODULES = Path(__file__).parent / "node_modules"
# url_for name -> folder under node_modules holding the browser build.
VENDOR = {
    "graphiql": "graphiql",
    "react": "react/umd",
    "react-dom": "react-dom/umd",
}


def routes() -> list[BaseRoute]:
    """The browser builds, under /static/npm/<package>/ (mounted before /static)."""
    return [
        Mount(
            f"/static/npm/{name}",
            StaticFiles(directory=NODE_MODULES / folder, check_dir=False),
            name=name,
        )
        for name, folder in VENDOR.items()
    ]


async def page(request: Request, style_nonce: str) -> Response:
    context = {"endpoint": request.url.path, "style_nonce": style_nonce}
    response = templates().TemplateResponse(request, "graphiql.html", context)
    response.headers["Content-Security-Policy"] = content_security.graphiql(style_nonce)
    return response
