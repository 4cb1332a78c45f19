"""Teaches Schemathesis the formats the timelock services' OpenAPI documents use."""

import schemathesis
from hypothesis import strategies as st

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = ALPHABET[rest] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


# An account key: base58 of exactly 32 bytes (the pattern beside it admits other lengths too).
schemathesis.openapi.format("solana-address", st.binary(min_size=32, max_size=32).map(base58))
