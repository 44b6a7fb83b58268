"""aiohttp's access log without the webhook's secret path token.

CitrineOS posts to /feed/ocpp/<FAULTBOT_WEBHOOK_PATH_TOKEN>, and the token is a
password: the default access log would print it at INFO on every feed POST. This
logger writes the same line with the path segment after /feed/ocpp/ replaced by ***
(wrong guesses too: a near miss of the token is still a secret worth keeping).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiohttp.web_log import AccessLogger

_TOKEN_PATH = re.compile(r"(/feed/ocpp/)[^\s?#/\"]+")


def mask_path_token(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1***", text)


class MaskedAccessLogger(AccessLogger):
    def _format_line(self, request: Any, response: Any, time: float) -> Iterable[tuple[Any, Any]]:
        return [
            (key, mask_path_token(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]
