"""`neocog studio`: a local web app over every app and teaching tool (FastAPI + uvicorn).

The pages are plain HTML/JS/CSS shipped as package data (static/): no build step, no
CDN, they work offline. Each page's API is a small module of its own; all of them call
the apps' public Python classes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig

from ..common import run_main
from . import classify, convolution, detect, runs, teach, transcribe, wavenet
from .models import Models
from .safety import MAX_UPLOAD_MB, BodyLimit, install_error_handlers

STATIC = Path(__file__).parent / "static"


@dataclass
class StudioConfig(RuntimeConfig):
    host: str = field(default="127.0.0.1", metadata={
        "help": "address to listen on; anything but loopback lets other machines in"})
    port: int = field(default=8000, metadata={"min": 0, "help": "0: any free port"})
    runs: str = field(default="runs", metadata={"help": "the run folders the Runs page shows"})
    max_upload_mb: float = field(default=MAX_UPLOAD_MB, metadata={
        "min": 0, "help": "largest request body accepted, in MB"})


@dataclass
class Studio:
    """What every page's API reads from `app.state.studio`."""

    runs: Path
    models: Models


def create_app(runs_dir: str | Path = "runs", max_upload_mb: float = MAX_UPLOAD_MB,
               runtime: RuntimeConfig | None = None) -> FastAPI:
    """The studio's ASGI app over the run folders in `runs_dir` (created if missing)."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(title="neocog studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.studio = Studio(runs_dir, Models(runs_dir, runtime or RuntimeConfig()))
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=int(max_upload_mb * 1e6))
    for page in (classify, convolution, detect, runs, teach, transcribe, wavenet):
        app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/", lambda: FileResponse(STATIC / "index.html"), include_in_schema=False)
    return app


def is_loopback(host: str) -> bool:
    """Whether `--host` lets only this machine in (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(StudioConfig, argv, "neocog studio",
                       "Serve the studio: every app and teaching tool in the browser.")
    if not is_loopback(cfg.host):
        print(f"warning: --host {cfg.host} is not loopback: anyone who can reach this machine "
              "can use the studio, upload files and read the runs folder", file=sys.stderr)
    runtime = RuntimeConfig(cfg.device, cfg.precision, cfg.threads, cfg.memory_format)
    server = uvicorn.Server(uvicorn.Config(create_app(cfg.runs, cfg.max_upload_mb, runtime),
                                           host=cfg.host, port=cfg.port, log_level="warning"))
    asyncio.run(serve(server, cfg.host))
    return 0


async def serve(server: uvicorn.Server, host: str) -> None:
    """Run `server`, printing its URL once it listens (with the port it got, for --port 0)."""
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        print(f"neocog studio: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    await task


if __name__ == "__main__":
    raise SystemExit(run_main(main))
