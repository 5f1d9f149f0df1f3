"""Reading an API request: its parameters (query string, JSON body or form fields) and the image
it refers to (an upload, an earlier image's id, a bundled sample or an index of the images folder)."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple

from aiohttp import web

from ..errors import ImageError, ParameterError

__all__ = ["IMAGE_FIELDS", "image_reference", "read_request"]

#: Parameters that hold numbers or JSON; in a query string or a form they are parsed from text.
_JSON_FIELDS = ("top", "target", "alpha", "max_tiles", "channel", "folder", "weights", "options")

#: The ways a request names its image, in the order they are tried.
IMAGE_FIELDS = ("image (the file itself)", "image_id", "sample", "folder")


async def read_request(request: web.Request) -> Tuple[Dict[str, Any], Optional[bytes]]:
    """The parameters of a request and the image file it carries, if any.

    Args:
        request: A POST with a JSON object body, a multipart form (file field `image`, other fields
            as parameters; a field `options` holds JSON), or the image file itself as the body
            (`image/*` or `application/octet-stream`; parameters in the query string).

    Returns:
        `(params, image_bytes)`.

    Raises:
        ParameterError: A body that is not valid JSON, or JSON that is not an object.
    """
    params: Dict[str, Any] = dict(request.query)
    data: Optional[bytes] = None
    kind = request.content_type
    if kind == "application/json":
        text = await request.text()
        try:
            body = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as error:
            raise ParameterError(f"The body is not valid JSON ({error.msg}). Received: {text[:80]!r}") from None
        if not isinstance(body, dict):
            raise ParameterError(f"The JSON body must be an object. Received: {text[:80]!r}")
        params.update(body)
    elif kind == "multipart/form-data":
        limit = request.client_max_size
        total = 0
        reader = await request.multipart()
        async for part in reader:
            content = await part.read()
            total += len(content)
            if limit and total > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total)
            if part.name == "image":
                data = bytes(content)
            elif part.name:
                params[part.name] = content.decode("utf-8", "replace")
    elif request.can_read_body:
        data = await request.read()
    for key in _JSON_FIELDS:  # query-string and form values arrive as text
        if isinstance(params.get(key), str):
            params[key] = _json_value(key, params[key])
    return params, data


def _json_value(key: str, text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParameterError(f"`{key}` must be a number or JSON ({error.msg}). Received: {key}={text[:80]!r}") from None


def image_reference(params: Dict[str, Any], data: Optional[bytes]) -> Tuple[str, Any]:
    """Which image a request means.

    Returns:
        `("bytes", data)`, `("image_id", id)`, `("sample", name)` or `("folder", index)`.

    Raises:
        ImageError: The request names no image.
    """
    if data is not None:
        return "bytes", data
    for key in ("image_id", "sample", "folder"):
        if params.get(key) not in (None, ""):
            return key, params[key]
    raise ImageError(
        "The request names no image: send the file (body or form field `image`), or `image_id`, "
        f"`sample` or `folder` (an index into the images folder). Received: parameters {sorted(params)}"
    )
