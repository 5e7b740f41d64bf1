"""The permission table: every route of the app (REST API, staff console, customer portal) and
every CLI command, against every caller. `test_permission_table.py` drives each cell against a
running app; a route or command without a row here fails it, and so does a row for one that is
gone.

The callers (`CALLERS`): no credentials at all; an API key holding one scope (read, write,
decide, audit, authenticate, admin); a member of staff signed in to the console holding one
role (agent, marketing, cro, supervisor, privacy-officer, auditor, admin); a customer signed in
to the portal.

A row names the callers who get through the route's guard (`allowed`). Every other caller gets
the refusal of the route's surface, so it is not written out:

- API (`X-API-Key` or `Authorization: Bearer`): without a key, 401; a key without the scope,
  403. The admin scope implies every other (api/auth.py), so `api(..., "read")` allows the
  read and the admin keys.
- Console (the staff session cookie): not signed in as staff, 303 to /sign-in; signed in
  without a role that opens the page (web/security.py ROUTE_ROLES), 403.
- Portal (the customer session cookie): not signed in as a customer, 303 to /portal/sign-in.
  A customer reaches only their own account: the session names the customer, no route takes a
  customer id.
- Public: everyone, with or without credentials. The sign-out routes answer everyone with
  the sign-in page.

Campaign reviews (SAFE-4) have no API route. An API key names a calling system, not a person:
with a review route, any system holding the write scope could pass for any CRO by naming them
in `by`. The CRO or supervisor reviews in the console, where the reviewer is the signed-in user
(POST /console/campaigns/{id}/review), or the operator runs `cpniguard campaigns approve --by`.

The CLI has no role of its own, by design. It runs on the server with the database URL and the
audit signing key: whoever can run it can read and change every table without it, so a role
the CLI checked would be a lock on a door beside an open wall. Who may run it is decided by
who may log in to the server (operating-system accounts, sudo, SSH keys), which the carrier
grants and reviews with its other personnel controls (SAFE-2). What the CLI owes is the name
in the ledger (house rule 5), so each CLI row says whom the ledger names for the command:

- `OPERATOR`: `staff:<CPNIGUARD_OPERATOR, else $USER>` (`Actor.cli`).
- `BY`: the member of staff named by `--by`, who must exist and hold one of the row's roles;
  the same service rule as in the console and the API, so these cells are driven per role
  (a refusal is exit 2 with the reason).
- `SYSTEM`: the long-running process (`system:worker`, `system:mail-listener`, ...).
- `NOTHING`: the command reads, or changes no record (schema migration, a server).

`BY_FREE_TEXT` marks an option that names a person as free text, recorded beside the operator
and not checked against the staff users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCOPES = ("read", "write", "decide", "audit", "authenticate", "admin")
ROLES = ("agent", "marketing", "cro", "supervisor", "privacy-officer", "auditor", "admin")
NO_CREDENTIALS = "no credentials"
CUSTOMER = "customer"


def key(scope: str) -> str:
    return f"key:{scope}"


def staff(role: str) -> str:
    return f"staff:{role}"


CALLERS = (NO_CREDENTIALS, *map(key, SCOPES), *map(staff, ROLES), CUSTOMER)
EVERYONE = frozenset(CALLERS)


class Surface(StrEnum):
    API = "api"
    CONSOLE = "console"
    PORTAL = "portal"
    PUBLIC = "public"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    SIGN_IN = "303 to sign-in"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    surface: Surface
    allowed: frozenset[str]
    answer: Outcome = Outcome.ALLOWED  # what an allowed caller gets
    sample: str | None = None  # a concrete path, for a mount
    form: tuple[tuple[str, str], ...] = ()  # what the form sends besides its CSRF token
    on_record: bool = False  # called for a record the test makes, not a made-up id

    def expected(self, caller: str) -> Outcome:
        if caller in self.allowed:
            return self.answer
        if self.surface is Surface.API:
            return Outcome.FORBIDDEN if caller.startswith("key:") else Outcome.UNAUTHORIZED
        if self.surface is Surface.CONSOLE and caller.startswith("staff:"):
            return Outcome.FORBIDDEN
        return Outcome.SIGN_IN

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def api(method: str, path: str, scope: str) -> Route:
    return Route(method, path, Surface.API, frozenset({key(scope), key("admin")}))


def console(method: str, path: str, roles: frozenset[str], **how: Any) -> Route:
    return Route(method, path, Surface.CONSOLE, frozenset(map(staff, roles)), **how)


def portal(method: str, path: str) -> Route:
    return Route(method, path, Surface.PORTAL, frozenset({CUSTOMER}))


def public(method: str, path: str, answer: Outcome = Outcome.ALLOWED, sample: str | None = None) -> Route:
    return Route(method, path, Surface.PUBLIC, EVERYONE, answer, sample)


# The console's pages by the roles that open them (ROUTE_ROLES in web/security.py says the same;
# this table is what the test holds the app to).
ALL_STAFF = frozenset(ROLES)
CALLS = frozenset({"agent", "supervisor"})
CUSTOMER_PAGE = frozenset({"agent", "supervisor", "privacy-officer"})
CAMPAIGN_QUEUE = frozenset({"marketing", "cro", "supervisor"})
BREACHES = frozenset({"privacy-officer"})
AUDIT = frozenset({"auditor", "privacy-officer", "admin"})
DASHBOARD = frozenset({"privacy-officer", "cro", "supervisor", "auditor", "admin"})
MAKERS = frozenset({"marketing", "cro", "supervisor", "admin"})  # campaigns.service.MAKERS
REVIEWERS = frozenset({"cro", "supervisor"})  # SAFE-4: campaigns.model.REVIEWERS

ROUTES: tuple[Route, ...] = (
    # The API's own pages and liveness
    public("GET", "/health"),
    public("GET", "/openapi.json"),
    public("GET", "/docs"),
    public("GET", "/docs-assets/{file}", sample="/docs-assets/swagger-ui.css"),
    # Customers, consent and the purpose gate
    api("POST", "/customers", "write"),
    api("GET", "/customers", "read"),
    api("GET", "/customers/{customer_id}", "read"),
    api("GET", "/classification", "read"),
    api("POST", "/customers/{customer_id}/consent-events", "write"),
    api("GET", "/customers/{customer_id}/consent", "read"),
    api("POST", "/customers/{customer_id}/checks", "decide"),
    api("POST", "/checks/batch", "decide"),
    # The audit ledger
    api("GET", "/audit/verify", "audit"),
    api("GET", "/audit/entries", "audit"),
    api("POST", "/audit/checkpoints", "audit"),
    # Customer authentication: codes and secrets (AUTH-*)
    api("POST", "/customers/{customer_id}/codes", "authenticate"),
    api("POST", "/customers/{customer_id}/codes/confirm", "authenticate"),
    api("PUT", "/customers/{customer_id}/credentials/{kind}", "write"),
    api("POST", "/customers/{customer_id}/credentials/{kind}/verify", "authenticate"),
    api("GET", "/customers/{customer_id}/credentials/{kind}/lock", "read"),
    api("GET", "/alerts", "read"),
    # Contacts of record and the notices of changes
    api("POST", "/customers/{customer_id}/contacts", "write"),
    api("POST", "/customers/{customer_id}/contacts/change", "write"),
    api("GET", "/notifications", "read"),
    # Call sessions and releases of call detail
    api("POST", "/sessions", "write"),
    api("GET", "/sessions/{session_id}/routes", "read"),
    api("POST", "/sessions/{session_id}/releases", "write"),
    api("POST", "/sessions/{session_id}/close", "write"),
    api("POST", "/sessions/{session_id}/one-time-approval", "write"),
    api("POST", "/sessions/{session_id}/use-on-call", "write"),
    # Staff users: adding one or a role is the admin's
    api("POST", "/users", "admin"),
    api("POST", "/users/{name}/roles", "admin"),
    api("GET", "/users", "read"),
    # Campaigns (SAFE-3, SAFE-4); no review route: see the module's docstring
    api("POST", "/campaigns", "write"),
    api("GET", "/campaigns", "read"),
    api("POST", "/campaigns/{campaign_id}/submit", "write"),
    api("POST", "/campaigns/{campaign_id}/audience", "write"),
    api("POST", "/campaigns/{campaign_id}/export", "write"),
    api("GET", "/campaigns/{campaign_id}", "read"),
    api("POST", "/campaigns/{campaign_id}/complete", "write"),
    api("POST", "/campaigns/{campaign_id}/archive", "write"),
    api("GET", "/campaigns/{campaign_id}/disclosures", "read"),
    api("GET", "/campaigns-report", "read"),
    api("GET", "/opt-out-notices/due", "read"),
    api("POST", "/opt-out-notices", "write"),
    api("POST", "/opt-out-failures", "write"),
    # Breaches of CPNI and the business-day calendar
    api("GET", "/breach-deadlines", "read"),
    api("POST", "/breaches", "write"),
    api("GET", "/breaches", "read"),
    api("GET", "/breaches/{incident}", "read"),
    api("POST", "/breaches/{incident}/determination", "write"),
    api("POST", "/breaches/{incident}/notes", "write"),
    api("POST", "/breaches/{incident}/harm", "write"),
    api("POST", "/breaches/{incident}/affected", "write"),
    api("GET", "/breaches/{incident}/agency-notice", "read"),
    api("POST", "/breaches/{incident}/agency-notice", "write"),
    api("POST", "/breaches/{incident}/consultations", "write"),
    api("POST", "/breaches/{incident}/directions", "write"),
    api("POST", "/breaches/{incident}/customer-notices", "write"),
    api("GET", "/calendar/closures", "read"),
    api("POST", "/calendar/closures", "write"),
    api("DELETE", "/calendar/closures/{day}", "write"),
    # The privacy office; the policy in force is public, as on the carrier's website
    api("POST", "/privacy-policy/versions", "write"),
    api("GET", "/privacy-policy/versions", "read"),
    public("GET", "/privacy-policy/notice"),
    public("GET", "/privacy-policy"),
    api("POST", "/complaints", "write"),
    api("POST", "/complaints/{complaint_id}/close", "write"),
    api("GET", "/complaints", "read"),
    api("GET", "/complaints/counts", "read"),
    api("POST", "/data-broker-actions", "write"),
    api("GET", "/data-broker-actions", "read"),
    api("POST", "/training", "write"),
    api("GET", "/training", "read"),
    api("GET", "/training/due", "read"),
    api("POST", "/certifications", "write"),
    api("GET", "/certifications", "read"),
    api("GET", "/certifications/{certification_id}", "read"),
    api("GET", "/certifications/{certification_id}/pdf", "read"),
    # The pages' assets, signing in and out, the language switch
    public("GET", "/static/{file}", sample="/static/style.css"),
    public("GET", "/sign-in"),
    public("POST", "/sign-in"),
    public("POST", "/sign-out", Outcome.SIGN_IN),
    public("GET", "/language/{code}"),
    # The staff console
    console("GET", "/", ALL_STAFF),
    console("GET", "/console/calls", CALLS),
    console("POST", "/console/calls/search", CALLS),
    console("POST", "/console/calls/open", CALLS),
    console("GET", "/console/calls/{session_id}", CALLS),
    console("POST", "/console/calls/{session_id}/verify", CALLS),
    console("POST", "/console/calls/{session_id}/release", CALLS),
    console("POST", "/console/calls/{session_id}/one-time-approval", CALLS),
    console("POST", "/console/calls/{session_id}/use-on-call", CALLS),
    console("POST", "/console/calls/{session_id}/close", CALLS),
    console("GET", "/console/customers/{customer_id}", CUSTOMER_PAGE),
    # Opening an account for a case (an investigation, an order) is the privacy office's alone
    console("POST", "/console/customers/{customer_id}/case", frozenset({"privacy-officer"})),
    console("GET", "/console/campaigns", CAMPAIGN_QUEUE),
    console("GET", "/console/campaigns/{campaign_id}", CAMPAIGN_QUEUE),
    # SAFE-4: the queue opens to marketing, the review only to a cro or supervisor (who did not
    # make the campaign: the service's check). Called with a whole form for a submitted campaign,
    # since a made-up one is not found before the reviewer is refused.
    console(
        "POST",
        "/console/campaigns/{campaign_id}/review",
        REVIEWERS,
        form=(("decision", "approve"), ("reason", "checked")),
        on_record=True,
    ),
    console("POST", "/console/campaigns/{campaign_id}/audience", CAMPAIGN_QUEUE),
    console("GET", "/console/breaches", BREACHES),
    console("POST", "/console/breaches", BREACHES),
    console("GET", "/console/breaches/{incident_id}", BREACHES),
    console("POST", "/console/breaches/{incident_id}/determination", BREACHES),
    console("POST", "/console/breaches/{incident_id}/affected", BREACHES),
    console("POST", "/console/breaches/{incident_id}/harm", BREACHES),
    console("POST", "/console/breaches/{incident_id}/notes", BREACHES),
    console("POST", "/console/breaches/{incident_id}/agency-notice", BREACHES),
    console("POST", "/console/breaches/{incident_id}/consultations", BREACHES),
    console("POST", "/console/breaches/{incident_id}/directions", BREACHES),
    console("POST", "/console/breaches/{incident_id}/customer-notices", BREACHES),
    console("POST", "/console/breaches/{incident_id}/close", BREACHES),
    console("GET", "/console/audit", AUDIT),
    console("POST", "/console/audit/verify", AUDIT),
    console("GET", "/console/dashboard", DASHBOARD),
    # The customer portal: getting in is public, the account is the signed-in customer's
    public("GET", "/portal/privacy-policy"),
    public("GET", "/portal/sign-in"),
    public("POST", "/portal/sign-in"),
    public("POST", "/portal/sign-out", Outcome.SIGN_IN),
    public("GET", "/portal/register"),
    public("POST", "/portal/register"),
    public("POST", "/portal/register/confirm"),
    portal("GET", "/portal"),
    portal("GET", "/portal/write"),
    portal("POST", "/portal/write"),
    portal("GET", "/portal/consent"),
    portal("POST", "/portal/consent"),
    portal("GET", "/portal/addresses"),
    portal("POST", "/portal/addresses/{kind}"),
    portal("GET", "/portal/security"),
    portal("POST", "/portal/security/code"),
    portal("POST", "/portal/security/{kind}"),
)


class Ledger(StrEnum):
    """Whom the audit ledger names for a CLI command."""

    OPERATOR = "staff:<operator>"
    BY = "the --by staff user"
    SYSTEM = "system:<process>"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    ledger: Ledger
    roles: frozenset[str] = field(default_factory=frozenset)  # for BY: the roles the --by user needs
    free_text: tuple[str, ...] = ()  # options naming a person, recorded as given

    def expected(self, role: str) -> Outcome:
        """For a --by command: allowed, or refused (exit 2) for a user holding only `role`."""
        return Outcome.ALLOWED if role in self.roles else Outcome.FORBIDDEN


def by(name: str, roles: frozenset[str]) -> Command:
    return Command(name, Ledger.BY, roles)


def operator(name: str, *free_text: str) -> Command:
    return Command(name, Ledger.OPERATOR, free_text=free_text)


def reads(name: str) -> Command:
    return Command(name, Ledger.NOTHING)


COMMANDS: tuple[Command, ...] = (
    reads("init"),  # the schema and the signing key; no record
    reads("serve"),  # the API: each request names its own caller, as the rows above say
    operator("check"),
    operator("check-batch"),
    reads("classification"),
    Command("worker", Ledger.SYSTEM),
    operator("purge"),
    operator("backup"),
    operator("restore"),
    operator("demo"),
    operator("customers add"),
    operator("customers show"),
    operator("customers find"),
    operator("customers exemption"),
    operator("consent record"),
    operator("consent show"),
    operator("consent rebuild"),
    reads("consent notices-due"),
    operator("consent send-notices"),
    operator("consent opt-out-failure"),
    operator("contacts change"),
    operator("contacts add"),
    reads("notifications list"),
    operator("credentials set"),
    operator("credentials verify"),
    operator("credentials send-code"),
    operator("credentials reset"),
    operator("credentials confirm-code"),
    reads("alerts list"),
    operator("sessions open"),
    reads("sessions routes"),
    operator("sessions release"),
    operator("sessions close"),
    operator("sessions approve-one-time-use"),
    operator("sessions use-on-call"),
    operator("users add"),
    operator("users grant"),
    reads("users list"),
    operator("users password"),
    by("campaigns create", MAKERS),
    by("campaigns submit", MAKERS),
    by("campaigns approve", REVIEWERS),
    by("campaigns reject", REVIEWERS),
    operator("campaigns audience"),
    operator("campaigns export"),
    reads("campaigns show"),
    reads("campaigns list"),
    by("campaigns complete", MAKERS),
    by("campaigns archive", MAKERS),
    reads("campaigns disclosures"),
    reads("campaigns report"),
    reads("audit verify"),
    operator("audit checkpoint"),
    reads("audit search"),
    operator("api-keys create"),
    reads("api-keys list"),
    operator("api-keys revoke"),
    operator("import customers"),
    operator("import cdrs"),
    operator("import bills"),
    operator("mail receive"),
    Command("mail listen", Ledger.SYSTEM),
    Command("mail poll", Ledger.SYSTEM),
    reads("breach deadlines"),
    operator("breach open"),
    operator("breach determine", "--by"),
    operator("breach note"),
    operator("breach harm", "--decided-by"),
    operator("breach affected"),
    operator("breach agency-notice"),
    operator("breach consult"),
    operator("breach direction"),
    operator("breach notify-customers"),
    reads("breach show"),
    reads("breach list"),
    operator("breach close"),
    reads("breach annual-summary"),
    operator("breach remind"),
    reads("calendar closures"),
    operator("calendar close"),
    operator("calendar reopen"),
    reads("calendar holidays"),
    reads("calendar add-business-days"),
    operator("policies publish"),
    reads("policies list"),
    reads("policies show"),
    operator("complaints add"),
    operator("complaints close"),
    reads("complaints list"),
    operator("brokers add"),
    reads("brokers list"),
    operator("training add"),
    reads("training list"),
    reads("training due"),
    operator("certification build"),
    reads("certification list"),
    reads("certification show"),
    reads("certification pdf"),
    reads("cpni keys"),
    operator("cpni rotate-key"),
)


def markdown() -> str:
    """The table as Markdown, one column per caller (`python -m tests.e2e.permission_table`)."""
    short = {Outcome.ALLOWED: "yes", Outcome.UNAUTHORIZED: "401", Outcome.FORBIDDEN: "403", Outcome.SIGN_IN: "sign-in"}
    lines = [f"| route | {' | '.join(CALLERS)} |", "|---" * (len(CALLERS) + 1) + "|"]
    lines += [f"| `{r.id}` | {' | '.join(short[r.expected(c)] for c in CALLERS)} |" for r in ROUTES]
    lines += ["", "| command | ledger names | roles of the --by user |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.ledger.value} | {', '.join(sorted(c.roles)) or '-'} |" for c in COMMANDS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
