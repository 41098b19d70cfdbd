"""What we keep about a client: never the raw IP, only a salted hash for abuse limits."""

import hashlib

from flask import current_app, request


def client_key() -> str:
    """Salted hash of the client address; the key for rate limits."""
    salt = current_app.config["CLIENT_HASH_SALT"]
    address = request.remote_addr or "unknown"
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()[:32]
