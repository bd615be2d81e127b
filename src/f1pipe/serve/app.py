"""``f1pipe serve``: the ASGI app (FastAPI) and how it runs (uvicorn, 127.0.0.1 by default).

Routes: ``/v1/*`` the REST API (:mod:`f1pipe.serve.api`), ``/openapi.json`` and ``/docs``
(its description, rendered here so it works offline), ``/``, ``/season/{season}``,
``/race/{season}/{round}``, ``/live`` the pages, ``/live/events`` the live page's SSE
stream, ``/static/*`` the scripts (plotly.js from the installed package).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.serve import pages
from f1pipe.serve.api import router
from f1pipe.serve.endpoints import ENDPOINTS, add_derived_tables
from f1pipe.serve.live import LiveHub
from f1pipe.serve.snapshot import WarehouseSnapshot, duckdb_file
from f1pipe.warehouse.model import BY_NAME as MODEL_TABLES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class ServeOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    live: bool = True  # consume the live topics for the live page
    refresh_every_s: float = 0.5  # look for warehouse changes this often

    def check(self) -> None:
        if not 0 <= self.port < 65536:
            raise ConfigError(f"--port {self.port}: use 1-65535 (0: any free port)")
        if self.refresh_every_s <= 0:
            raise ConfigError("--refresh-every must be more than 0")


def served_tables() -> tuple[str, ...]:
    """The model tables the API and pages read (not the raw tables, nor the feed's updates)."""
    return tuple(dict.fromkeys(t for e in ENDPOINTS.values() for t in e.tables
                               if t in MODEL_TABLES))


def create_app(settings: Settings, options: ServeOptions = ServeOptions()) -> FastAPI:
    snapshot = WarehouseSnapshot(duckdb_file(settings.warehouse), served_tables(),
                                 refresh_every_s=options.refresh_every_s,
                                 prepare=add_derived_tables)
    hub = LiveHub(settings) if options.live else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        snapshot.start()
        if hub:
            hub.start()
        try:
            yield
        finally:
            if hub:
                hub.stop()
            snapshot.stop()

    app = FastAPI(title="f1pipe API", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, description=(
                      "Formula 1 data from the f1pipe warehouse, in OpenF1's style: filters as "
                      "query parameters (`?season=2024&round=12&driver_number=44&lap_number>=10`"
                      "), JSON by default, CSV with `format=csv`, pages of `limit` rows "
                      "(`X-Next-Offset` names the next)."))
    app.state.snapshot = snapshot
    app.state.hub = hub
    app.include_router(router(snapshot))
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(pages.plotly_js(), media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return _page(lambda: pages.render("index.html", **pages.index_data(snapshot)))

    @app.get("/season/{season}", response_class=HTMLResponse, include_in_schema=False)
    def season_page(season: int) -> HTMLResponse:
        def build() -> str | None:
            data = pages.season_data(snapshot, season)
            return data and pages.render("season.html", **data,
                                         charts_json=pages.json_script(data["charts"]))
        return _page(build, f"no race results of {season} in the warehouse")

    @app.get("/race/{season}/{rnd}", response_class=HTMLResponse, include_in_schema=False)
    def race_page(season: int, rnd: int, session: str = "R") -> HTMLResponse:
        return _page(lambda: race_html(snapshot, season, rnd, session),
                     f"no session {season} round {rnd} {session} in the warehouse")

    @app.get("/live", response_class=HTMLResponse, include_in_schema=False)
    def live_page() -> HTMLResponse:
        return HTMLResponse(pages.render("live.html"))

    @app.get("/live/events", include_in_schema=False)
    async def live_events(request: Request) -> Response:
        if hub is None:
            return Response("live feed off (f1pipe serve --no-live)\n", status_code=404)
        return StreamingResponse(hub.events(request.is_disconnected),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/health", include_in_schema=False)
    def health() -> Response:
        return JSONResponse(health_document(snapshot, hub))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    return app


def health_document(snapshot: WarehouseSnapshot, hub: LiveHub | None) -> dict:
    """What the server serves: the copy's age and row counts, the live feed's state."""
    copy = snapshot.current
    rows = {}
    if copy is not None:
        cursor = snapshot.cursor()
        try:
            for table in sorted(copy.tables):  # names from the copy's catalog
                rows[table] = cursor.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        finally:
            cursor.close()
    return {"warehouse": str(snapshot.path.resolve()),
            "copied_at": copy.made_at if copy else None,
            "copy_seconds": copy.seconds if copy else None,
            "refreshes": snapshot.refreshes, "lock_waits": snapshot.lock_waits,
            "error": snapshot.last_error, "rows": rows,
            "live": None if hub is None else {"version": hub.version, "error": hub.error}}


def race_html(snapshot: WarehouseSnapshot, season: int, rnd: int, session: str = "R",
              inline: bool = False) -> str | None:
    data = pages.race_data(snapshot, season, rnd, session)
    if data is None:
        return None
    return pages.render("race.html", inline=inline, race=data,
                        charts_json=pages.json_script(data["charts"]))


def _page(build, missing: str = "") -> HTMLResponse:
    try:
        body = build()
    except F1PipeError as exc:
        return HTMLResponse(_message(str(exc)), status_code=503)
    if body is None:
        return HTMLResponse(_message(missing), status_code=404)
    return HTMLResponse(body)


def _message(text: str) -> str:
    return pages.render("base.html").replace(
        "<main>", f"<main><p class=\"note\" id=\"message\">{html.escape(text)}</p>", 1)


def docs_html(schema: dict) -> str:
    """The API's description as one page (the OpenAPI schema at /openapi.json)."""
    parts = [f"<h1>{html.escape(schema['info']['title'])}</h1>",
             f"<p>{html.escape(schema['info'].get('description', ''))}</p>",
             '<p>Schema: <a href="/openapi.json">/openapi.json</a></p>']
    for path, methods in schema["paths"].items():
        op = methods["get"]
        names = ", ".join(f"<code>{html.escape(p['name'])}</code>"
                          for p in op.get("parameters", []))
        parts.append(f"<h2><code>GET {html.escape(path)}</code></h2>"
                     f"<p>{html.escape(op.get('summary', ''))}</p>"
                     f"<p class=\"note\">parameters: {names}</p>")
    return pages.render("base.html").replace("<main>", "<main>" + "".join(parts), 1)


# --- running --------------------------------------------------------------------------------


def server(settings: Settings, options: ServeOptions):
    """A uvicorn server for the app (not started)."""
    import uvicorn

    options.check()
    app = create_app(settings, options)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning",
                            timeout_graceful_shutdown=2, lifespan="on")
    return uvicorn.Server(config)


def check_port(host: str, port: int) -> None:
    """F1PipeError (one line) when ``host:port`` cannot be listened on."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise F1PipeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}: choose "
                          "another --port (or stop what uses it)") from None


def serve(settings: Settings, options: ServeOptions) -> None:
    """Run until Ctrl-C."""
    options.check()
    check_port(options.host, options.port)
    server(settings, options).run()


@contextmanager
def running(settings: Settings, options: ServeOptions) -> Iterator[str]:
    """The server in a thread of this process (tests, benchmarks); yields its base URL."""
    instance = server(settings, options)
    thread = threading.Thread(target=instance.run, name="uvicorn", daemon=True)
    thread.start()
    import time

    deadline = time.monotonic() + 30
    while not instance.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise F1PipeError(f"f1pipe serve did not start on {options.host}:{options.port}")
        time.sleep(0.02)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{options.host}:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=15)
