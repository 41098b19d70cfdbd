"""The survey collection and staff application (Flask)."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from survey_app import (
    connections,
    errors,
    favicon,
    i18n,
    localtime,
    request_limits,
    security_headers,
    settings,
    text_input,
)
from survey_app.caching import Cache
from survey_app.config import load_config
from survey_app.extensions import csrf, db, limiter, login_manager


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of
    keys instead of on every request (about 4% of a citizen submit's CPU)."""

    def __init__(self) -> None:
        self._serializers: Cache[object, URLSafeTimedSerializer | None] = Cache(size=8)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        return self._serializers.get_or_make(
            keys, lambda: super(SessionInterface, self).get_signing_serializer(app)
        )


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.session_interface = SessionInterface()
    app.config.from_mapping(load_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    proxies = settings.init_app(app).trusted_proxies
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    localtime.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    favicon.init_app(app)
    request_limits.init_app(app)  # before csrf, whose hook is the first to read a form
    text_input.init_app(app)  # after the size limits: it reads the form
    db.init_app(app)
    connections.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from survey_app import access, cli  # noqa: F401  (access registers the user loader)

    cli.init_app(app)

    from survey_app import citizen

    app.register_blueprint(citizen.bp)

    from survey_app import onestop_api

    app.register_blueprint(onestop_api.bp)

    from survey_app import staff

    staff.init_app(app)
    return app
