"""Flask extensions, created here and bound to the app in ``create_app``."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from survey_app import ratelimit_storage  # noqa: F401  (memory:// safe under threads)
from survey_app.privacy import client_key


class Base(DeclarativeBase):
    # Named constraints so Alembic migrations can refer to them on every backend.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

# The models' base: db.Model at run time (Base with Flask-SQLAlchemy's additions); type
# checkers cannot take a class from an attribute, and see the Base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
csrf = CSRFProtect()
limiter = Limiter(key_func=client_key)
login_manager = LoginManager()
