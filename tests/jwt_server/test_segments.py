"""The segment check in C refuses and accepts exactly what PyJWT's own check does."""

import jwt
import pytest

from servers.jwt_server.segments import SegmentJWS

SEGMENTS = [
    b"eyJhbGciOiJIUzI1NiJ9",  # a header
    b"",  # empty
    b"QQ",  # "A"
    b"QR",  # "A" too, but not the canonical encoding
    b"QQ==",  # padded (some issuers pad)
    b"QQ=",  # bad padding
    b"Q",  # a length no encoding has
    b"QUJD",
    b"QU!D",  # outside the alphabet
    b"QU+D",  # base64, not base64url
    b"QU/D",
    b"QU D",
    b"\xff\xfe",
    b"a" * 401,
]


def outcome(jws: jwt.PyJWS, segment: bytes) -> object:
    """The decoded bytes, or the refusal's type and message."""
    try:
        return jws._decode_base64url_segment(segment, "header")
    except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
        return type(exc), str(exc)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_same_answer_as_pyjwt(segment):
    assert outcome(SegmentJWS(), segment) == outcome(jwt.PyJWS(), segment)


def test_a_token_is_decoded_through_it():
    from servers.jwt_server.segments import SegmentPyJWT

    decoder = SegmentPyJWT()
    assert isinstance(decoder._jws, SegmentJWS)
    token = jwt.encode({"sub": "1"}, "k" * 32, algorithm="HS256")
    assert decoder.decode(token, "k" * 32, algorithms=["HS256"]) == {"sub": "1"}
    with pytest.raises(jwt.DecodeError):
        decoder.decode(token.replace(".", ".!", 1), "k" * 32, algorithms=["HS256"])
