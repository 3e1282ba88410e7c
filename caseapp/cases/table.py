"""The rows of the case tables (cases/_table.html), written in Python: through Jinja a row cost ~19 µs (eleven
expressions, each looked up, filtered and escaped in turn), and the case list, the home page and the search show
10 to 50 of them. Every value from the database is escaped; the labels and messages come from the catalogue, as the
templates' `_` gives them."""
from flask_babel import gettext
from markupsafe import Markup, escape

from caseapp import labels
from caseapp.routing import IdUrls
from caseapp.templating import date_text

_NUMBER_MARK = "\x00"  # stands for the case number in the checkbox's label; markupsafe leaves it as it is


def _escaped_links(endpoint: str, argument: str) -> IdUrls:
    """IdUrls whose URLs come out escaped for an attribute, as Jinja writes an href (the app's root path is the
    server's setting, and may hold an "&")."""
    links = IdUrls(endpoint, argument)
    links.before, links.after = str(escape(links.before)), str(escape(links.after))
    return links


def case_table_rows(cases, selectable: bool = False) -> Markup:
    """The table's `<tr>` elements for `cases` (case records, or `rows.CaseRow`), with a selection checkbox in front
    of each when `selectable` (the bulk assignment)."""
    case_url = _escaped_links("cases.show", "case_id")
    person_url = _escaped_links("beneficiaries.show", "beneficiary_id")
    sexes, stages = labels.SEX_LABELS.in_language(), labels.CASE_STATUS_LABELS.in_language()
    # (messages outside the f-strings: pybabel does not read into them)
    estimated, requested = escape(gettext("estimated")), escape(gettext("closure requested"))
    estimated = f' <span class="badge text-bg-secondary">{estimated}</span>'
    requested = f' <span class="badge text-bg-warning">{requested}</span>'
    # The message once, its number filled in each row: Markup's % escapes the value, and the message's own %% too.
    select_case = str(Markup(gettext("Select case %(number)s")) % {"number": _NUMBER_MARK})  # nosec B704
    written = []
    for case in cases:
        person, worker = case.beneficiary, case.assigned_worker
        number = escape(case.number)
        check = (f'<td><input class="form-check-input" type="checkbox" name="case_ids" value="{case.id}" '
                 f'id="select-{case.id}" aria-label="{select_case.replace(_NUMBER_MARK, number)}"></td>'
                 if selectable else "")
        written.append(
            f'<tr>{check}'
            f'<td class="case-number"><a href="{case_url(case.id)}">{number}</a></td>'
            f'<td><a href="{person_url(case.beneficiary_id)}"><bdi>{escape(person.display_name)}</bdi></a></td>'
            f'<td>{escape(labels.label_of(sexes, person.sex))}</td>'
            f'<td>{escape(date_text(person.date_of_birth))}{estimated if person.dob_estimated else ""}</td>'
            f'<td>{escape(labels.label_of(stages, case.status))}'
            f'{requested if case.awaiting_closure else ""}</td>'
            f'<td>{escape(worker.full_name) if worker else "—"}</td>'
            f'<td>{escape(date_text(case.opened_at))}</td></tr>')
    return Markup("\n".join(written))  # nosec B704 - every value above is escaped
