"""What keeps the studio serving whatever a request holds: a body size limit, paths
confined to the runs folder, uploads saved under their own name, and every refusal
one JSON line `{"error": ...}` with a 4xx status, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neocog.core.errors import NeocogError

MAX_UPLOAD_MB = 64  # a request body over this is refused (413) before it is read
CHUNK = 1 << 20
# Form fields of a multipart request, by type
FormText = Annotated[str, Form()]
FormTexts = Annotated[list[str], Form()]
FormFlag = Annotated[bool, Form()]
FormNumber = Annotated[float, Form()]
FormInt = Annotated[int, Form()]


class Refused(NeocogError):
    """A request for something outside what the studio serves (403): a path that climbs
    out of the runs folder, an absolute path."""


class TooLarge(NeocogError):
    """An upload over the size limit (413)."""


STATUS = {Refused: 403, TooLarge: 413}


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """NeocogError -> 400 (403, 413 for its kinds) with its one line; a malformed request
    -> 422 naming the field; an HTTP error keeps its status, its detail becomes the line."""

    async def neocog(_request: Request, err: Exception) -> JSONResponse:
        return error_response(STATUS.get(type(err), 400), str(err))

    async def invalid(_request: Request, err: Exception) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                    for e in err.errors()]  # type: ignore[attr-defined]
        return error_response(422, "; ".join(problems))

    async def http(_request: Request, err: Exception) -> JSONResponse:
        return error_response(err.status_code, str(err.detail))  # type: ignore[attr-defined]

    app.add_exception_handler(NeocogError, neocog)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http)


class BodyLimit:
    """ASGI middleware: a request whose body is over `limit` bytes gets 413 at once, by its
    Content-Length when it declares one, else as soon as the bytes read pass the limit (the
    app then sees the client gone, and whatever it answers is dropped)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self.refuse(send, int(declared))
            return
        seen, refused = 0, False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if message["type"] == "http.request" and seen > self.limit:
                refused = True
                await self.refuse(send, seen)
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)

    async def refuse(self, send: Send, size: int) -> None:
        body = json.dumps({"error": f"upload of {size / 1e6:.1f} MB refused: the limit is "
                                    f"{self.limit / 1e6:.0f} MB"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def confine(root: Path, relative: str) -> Path:
    """`root / relative` for a path a request names, refused (Refused, 403) when it is
    absolute or, links resolved, lands outside `root`."""
    if not relative or "\0" in relative or Path(relative).is_absolute():
        raise Refused(f"{relative!r}: not a path inside the runs folder")
    path = (root / relative).resolve()
    if not inside(root, path):
        raise Refused(f"{relative}: outside the runs folder, refused")
    return path


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, links resolved, is `root` or below it: what the Runs page lists
    and the model pickers offer, so a link in the runs folder shows nothing outside it."""
    return path.resolve().is_relative_to(root.resolve())


def safe_name(name: str | None, default: str) -> str:
    """An uploaded file's own name, reduced to a plain file name (no folders)."""
    base = re.sub(r"[^\w.\- ]", "_", Path(name or "").name).strip(" .")
    # its last 60 characters, so the suffix the readers go by stays: at most 240 UTF-8
    # bytes, under the 255 a file name may have (a longer one fails to open: a 500)
    return base[-60:].lstrip(" .") or default


def without_folder(text: str, path: Path) -> str:
    """`text` (an error or a note) naming an upload by its own name, not its temp folder."""
    return text.replace(f"{path.parent}/", "")


@contextmanager
def saved_upload(upload: UploadFile, default: str = "upload") -> Iterator[Path]:
    """The upload as a temp file under its own name; a NeocogError raised while it is in
    use names the upload, not the temp folder."""
    folder = Path(tempfile.mkdtemp(prefix="neocog-studio-"))
    path = folder / safe_name(upload.filename, default)
    try:
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file, out, CHUNK)
        yield path
    except NeocogError as err:
        raise type(err)(without_folder(str(err), path)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)

