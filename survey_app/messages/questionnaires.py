"""Loading questionnaire versions (nạp phiếu khảo sát).

Like the YAML loader's problems, the refusal of a changed version is a technical line
(file, questionnaire, version) for administrators and the command line, the same in
either language; the staff page explains it in Vietnamese around it.
"""

from flask_babel import lazy_gettext

MESSAGES = {
    "questionnaire.version_has_answers": lazy_gettext(
        "%(filename)s: %(questionnaire)s version %(version)s already has answers and cannot "
        "change; give the changed questionnaire a new version"
    ),
}
