"""What we keep about a client: never the raw IP, only a salted hash for abuse limits."""

import hashlib

from flask import request

from survey_app.settings import settings


def client_key() -> str:
    """Salted hash of the client address; the key for rate limits."""
    salt = settings().client_hash_salt
    address = request.remote_addr or "unknown"
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()[:32]
