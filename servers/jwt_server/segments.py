"""PyJWT's decode, with its check of each segment's characters done in C rather than in Python.

PyJWT (since GHSA-hxm8-2xgr-2p9m) refuses a segment with a character outside base64url by
walking every character of the token in a Python generator: about 400 steps per request for our
tokens, the largest single cost of PyJWT's decode in `python -m lab bench --profile`. A segment
made only of base64url characters (what every well-formed token has) is checked here by one
regular expression, then decoded and held to PyJWT's other rules (length, canonical encoding)
with PyJWT's own messages; anything else (padding, stray characters) goes to PyJWT's own check,
unchanged, so every refusal stays PyJWT's.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import jwt
from jwt.exceptions import DecodeError
from jwt.utils import base64url_decode, base64url_encode

#: A segment of base64url characters only, no padding.
BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


class SegmentJWS(jwt.PyJWS):
    """PyJWS whose segment check runs the alphabet test as one regex."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        """The decoded segment, refused exactly as PyJWT refuses it."""
        if BASE64URL.fullmatch(segment) is None:
            return jwt.PyJWS._decode_base64url_segment(segment, name)  # type: ignore[attr-defined]
        if len(segment) % 4 == 1:
            raise DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64url_decode(segment)
        except (TypeError, binascii.Error) as err:
            raise DecodeError(f"Invalid {name} padding") from err
        if base64url_encode(decoded) != segment:
            raise DecodeError(f"Invalid {name} padding")
        return decoded


class SegmentPyJWT(jwt.PyJWT):
    """PyJWT (options fixed once) decoding through `SegmentJWS`."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self._jws = SegmentJWS(options=self._get_sig_options())
