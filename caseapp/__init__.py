"""caseapp: case management and referrals for a migrant-assistance programme."""
import os
from pathlib import Path

from flask import Flask

from caseapp.config import CONFIGS, ROOT


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, log neutralisation, extensions, blueprints, error pages, CLI and the
    trusted proxies."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str((config or {}).get("INSTANCE_PATH") or os.environ.get("CASEAPP_INSTANCE") or ROOT / "instance"),
    )
    env_name = (config or {}).get("ENV_NAME") or os.environ.get("CASEAPP_ENV", "production")
    app.config.from_object(CONFIGS.get(env_name, CONFIGS["production"]))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (CASEAPP_ENV=dev uses a development key).")
    Path(app.instance_path).mkdir(exist_ok=True)

    from caseapp.security.logging import install_log_neutralisation

    install_log_neutralisation(app)
    _init_extensions(app)
    from caseapp.routing import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    _register_blueprints(app)
    _register_hooks(app)

    from caseapp.cli import register_cli

    register_cli(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXIES reverse proxies, take the client's address and scheme from their X-Forwarded-* headers."""
    proxies = app.config["PROXIES"]
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _init_extensions(app: Flask) -> None:
    from caseapp import models  # noqa: F401  (registers every model on the metadata)
    from caseapp.extensions import babel, csrf, db, login_manager, migrate
    from caseapp.i18n import install_template_gettext, select_locale
    from caseapp.read_only_commit import init_read_only_commit
    from caseapp.security.database import configure_sqlite, engine_options, ping_idle_connections
    from caseapp.security.encryption import install_keyring

    install_keyring(app)  # missing or malformed keys stop the start
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                             app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    db.init_app(app)
    init_read_only_commit(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    install_template_gettext(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        ping_idle_connections(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])

    from caseapp.auth.session import init_login_manager

    init_login_manager(login_manager)


def _register_blueprints(app: Flask) -> None:
    from caseapp.admin.views import bp as admin_bp
    from caseapp.audit.views import bp as audit_bp
    from caseapp.auth.views import bp as auth_bp
    from caseapp.beneficiaries.merge_views import bp as merge_bp
    from caseapp.beneficiaries.views import bp as beneficiaries_bp
    from caseapp.cases.views import bp as cases_bp
    from caseapp.cases.work_views import bp as casework_bp
    from caseapp.health import bp as health_bp
    from caseapp.home.views import bp as home_bp
    from caseapp.imports.views import bp as imports_bp
    from caseapp.referrals.directory_views import bp as directory_bp
    from caseapp.privacy.views import bp as privacy_bp
    from caseapp.referrals.views import bp as referrals_bp
    from caseapp.reports.views import bp as reports_bp

    for blueprint in (home_bp, auth_bp, beneficiaries_bp, merge_bp, cases_bp, casework_bp, referrals_bp, directory_bp,
                      admin_bp, audit_bp, privacy_bp, reports_bp, imports_bp, health_bp):
        app.register_blueprint(blueprint)


def _register_hooks(app: Flask) -> None:
    from caseapp.access.policy import enforce_route_permission, template_can
    from caseapp.auth.session import enforce_absolute_timeout, enforce_account_setup
    from caseapp.errors import init_errors
    from caseapp.auth.cookie_session import CookieSessionInterface
    from caseapp.i18n import LANGUAGES, current_language, text_direction
    from caseapp.navigation import main_menu
    from caseapp.security.headers import init_headers
    from caseapp.security.rate_limit import login_limiter
    from caseapp.templating import init_templating

    app.session_interface = CookieSessionInterface()
    app.before_request(enforce_absolute_timeout)
    app.before_request(enforce_route_permission)
    app.before_request(enforce_account_setup)
    init_headers(app)
    login_limiter(app)  # a malformed LOGIN_RATE_LIMIT stops the start, not the first login
    init_errors(app)
    init_templating(app)
    from caseapp.auth.cookie_session import session_seconds_left
    from caseapp.referrals.notifications import template_unread_count

    app.jinja_env.globals.update(
        unread_notifications=template_unread_count, main_menu=main_menu, session_seconds_left=session_seconds_left,
        can=template_can, LANGUAGES=LANGUAGES, current_language=current_language, text_direction=text_direction
    )
