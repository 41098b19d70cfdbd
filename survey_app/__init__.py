"""The survey collection and staff application (Flask)."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from survey_app.config import load_config
from survey_app.extensions import csrf, db, limiter, login_manager


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from survey_app import access, cli  # noqa: F401  (access registers the user loader)

    cli.init_app(app)

    from survey_app import citizen

    app.register_blueprint(citizen.bp)

    from survey_app import onestop_api, posters

    app.register_blueprint(onestop_api.bp)
    app.register_blueprint(posters.bp)

    from survey_app import staff

    staff.init_app(app)

    from survey_app import dashboard

    dashboard.init_app(app)
    return app
