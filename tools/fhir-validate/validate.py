"""Validate the reference service's answers with a validator that is not our own parser.

Two layers, both independent of the Rust code:
1. R4 structure: each answer (and each Bundle entry's resource) is loaded into fhir.resources'
   R4B model for its resourceType (PyPI, pinned in requirements.txt): unknown elements, wrong
   types, malformed dates and instants, missing required elements are refused.
2. The published contract, read at run time from ../shared/fixtures:
   - England-CareTeam-Flag's differential: every element with `min` >= 1 is present;
   - ValueSet-England-ChildProtectionPlan: each plan category coding is in its expansion, with
     its display text and code system;
   - the PDS examples: the NHS number system and the verification status code system;
   - the CP-IS error handling page: issue codes for INVALID_SEARCH_DATA, PRECONDITION_FAILED
     and ACCESS_DENIED; the PDS error examples: issue codes and code system for PDS's errors;
   plus the FHIR R4 codes fhir.resources does not enforce (Bundle.type, search.mode,
   ContactPoint system and use, IssueType, booleans written as JSON booleans) and searchset
   rules (total counts matches, included entries are PractitionerRoles, the self link).

Before checking the live answers it proves it is not vacuous: deliberately broken copies of
the answers must each be refused, or the run fails.

Usage: validate.py --base URL --tokens DIR --manifest FILE --fixtures DIR
"""
import argparse
import copy
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class

FHIR_NS = {"f": "http://hl7.org/fhir"}
SNOMED = "http://snomed.info/sct"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
ENGLAND_SPINE = "https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode"
GUIDE_INCLUDE = "AuditEvent:entity-type=http://terminology.hl7.org/CodeSystem/v3-RoleClass|ASSIGNED"
# FHIR R4 required bindings that fhir.resources leaves as plain strings.
CONTACT_POINT_SYSTEMS = {"phone", "fax", "email", "pager", "url", "sms", "other"}
CONTACT_POINT_USES = {"home", "work", "temp", "old", "mobile"}
ISSUE_SEVERITIES = {"fatal", "error", "warning", "information"}
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
}
BUNDLE_TYPES = {"document", "message", "transaction", "transaction-response", "batch",
                "batch-response", "history", "searchset", "collection"}
SEARCH_MODES = {"match", "include", "outcome"}


class Invalid(Exception):
    """An answer breaks R4 or the published contract."""


class Contract:
    """What the published fixtures say, read once at start."""

    def __init__(self, fixtures: Path):
        profiles = fixtures / "nhs-ig" / "profiles"
        care_team = ET.parse(profiles / "England-CareTeam-Flag.xml").getroot()
        self.care_team_required = []
        for element in care_team.findall("f:differential/f:element", FHIR_NS):
            minimum = element.find("f:min", FHIR_NS)
            if minimum is not None and int(minimum.get("value")) >= 1:
                self.care_team_required.append(element.find("f:path", FHIR_NS).get("value"))
        if not self.care_team_required:
            raise SystemExit("England-CareTeam-Flag.xml: no required elements found")
        value_set = ET.parse(profiles / "ValueSet-England-ChildProtectionPlan.xml").getroot()
        self.plan_codes = {}
        for contains in value_set.findall("f:expansion/f:contains", FHIR_NS):
            system = contains.find("f:system", FHIR_NS).get("value")
            code = contains.find("f:code", FHIR_NS).get("value")
            self.plan_codes[(system, code)] = contains.find("f:display", FHIR_NS).get("value")
        if len(self.plan_codes) != 3:
            raise SystemExit("ValueSet-England-ChildProtectionPlan.xml: expected three codes")
        pds = json.loads((fixtures / "pds" / "patient_9000000009.json").read_text())
        nhs_identifier = pds["identifier"][0]
        self.nhs_number_system = nhs_identifier["system"]
        verification = nhs_identifier["extension"][0]
        self.verification_url = verification["url"]
        self.verification_system = verification["valueCodeableConcept"]["coding"][0]["system"]
        # PDS's errors: the code system and each code's issue type, from its examples.
        self.pds_issue_types = {}
        self.pds_spine_system = None
        for name in ["INVALID_RESOURCE_ID", "RESOURCE_NOT_FOUND", "ACCESS_DENIED"]:
            issue = json.loads((fixtures / "pds" / f"{name}.json").read_text())["issue"][0]
            coding = issue["details"]["coding"][0]
            self.pds_issue_types[coding["code"]] = issue["code"]
            self.pds_spine_system = coding["system"]
        # CP-IS's errors: the error handling page's table (HTTP code | severity | issue type |
        # code | diagnostics).
        page = (fixtures / "nhs-ig" / "guides" / "consumer-Build_Errorhandling.page.md").read_text()
        self.cpis_issue_types = {}
        for line in page.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0].isdigit():
                self.cpis_issue_types[cells[3]] = (int(cells[0]), cells[2])
        if {"INVALID_SEARCH_DATA", "PRECONDITION_FAILED", "ACCESS_DENIED"} - set(self.cpis_issue_types):
            raise SystemExit("consumer-Build_Errorhandling.page.md: error table not found")


def r4_structure(resource: dict, where: str) -> None:
    """Load `resource` into the fhir.resources model for its resourceType."""
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    try:
        model = get_fhir_model_class(resource_type)
    except Exception as error:  # an unknown resourceType
        raise Invalid(f"{where}: unknown resourceType {resource_type!r}") from error
    try:
        model.model_validate(resource)
    except Exception as error:
        first = str(error).splitlines()[:3]
        raise Invalid(f"{where}: not valid R4 {resource_type}: {' / '.join(first)}") from error


def require(condition: bool, message: str) -> None:
    if not condition:
        raise Invalid(message)


def booleans_are_json_booleans(value, where: str, names=("requestor",)) -> None:
    """FHIR JSON writes booleans as true/false, never as strings (fhir.resources coerces)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in names:
                require(isinstance(item, bool), f"{where}.{key}: not a JSON boolean")
            booleans_are_json_booleans(item, f"{where}.{key}", names)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            booleans_are_json_booleans(item, f"{where}[{index}]", names)


def check_care_team(care_team: dict, asked: str, contract: Contract, where: str) -> None:
    for path in contract.care_team_required:
        element = path.split(".", 1)[1]
        require(care_team.get(element) not in (None, "", []), f"{where}: {path} is required (min 1)")
    for index, telecom in enumerate(care_team.get("telecom", [])):
        require(telecom.get("system") in CONTACT_POINT_SYSTEMS, f"{where}.telecom[{index}].system")
        require(telecom.get("use") in CONTACT_POINT_USES, f"{where}.telecom[{index}].use")
    codings = [coding for category in care_team.get("category", [])
               for coding in category.get("coding", [])]
    require(codings, f"{where}: the service always codes the plan category")
    for coding in codings:
        key = (coding.get("system"), coding.get("code"))
        require(key in contract.plan_codes,
                f"{where}: category {key} is not in England-ChildProtectionPlan")
        require(coding.get("display") == contract.plan_codes[key],
                f"{where}: category display is not the ValueSet's ({contract.plan_codes[key]!r})")
    subject = care_team.get("subject", {}).get("identifier", {})
    require(subject.get("system") == contract.nhs_number_system, f"{where}: subject system")
    require(subject.get("value") == asked, f"{where}: subject is not the asked patient")
    require("profile" not in care_team.get("meta", {}),
            f"{where}: the consumer guide's search answers claim no profile")


def check_searchset(bundle: dict, resource_type: str, asked: str, path: str, where: str) -> list:
    """The searchset rules; returns the match entries' resources."""
    require(bundle.get("resourceType") == "Bundle", f"{where}: not a Bundle")
    require(bundle.get("type") in BUNDLE_TYPES and bundle["type"] == "searchset",
            f"{where}: Bundle.type is not searchset")
    entries = bundle.get("entry", [])
    for index, entry in enumerate(entries):
        mode = entry.get("search", {}).get("mode")
        require(mode in SEARCH_MODES, f"{where}.entry[{index}].search.mode")
        resource = entry.get("resource", {})
        require(entry.get("fullUrl", "").endswith(f"/{resource.get('resourceType')}/{resource.get('id')}"),
                f"{where}.entry[{index}].fullUrl does not name its resource")
        if mode == "include":
            require(resource.get("resourceType") == "PractitionerRole",
                    f"{where}.entry[{index}]: an included entry is not a PractitionerRole")
        else:
            require(resource.get("resourceType") == resource_type,
                    f"{where}.entry[{index}]: a match is not a {resource_type}")
    matches = [entry["resource"] for entry in entries if entry["search"]["mode"] == "match"]
    require(bundle.get("total") == len(matches), f"{where}: total does not count the matches")
    links = [link for link in bundle.get("link", []) if link.get("relation") == "self"]
    require(len(links) == 1, f"{where}: no self link")
    url = urllib.parse.urlsplit(links[0]["url"])
    require(url.path.endswith(path), f"{where}: the self link is not the search")
    if asked is not None:
        parameters = dict(urllib.parse.parse_qsl(url.query))
        require(parameters.get("patient:identifier") == f"https://fhir.nhs.uk/Id/nhs-number|{asked}",
                f"{where}: the self link does not name the asked patient")
    return matches


def check_audit_event(event: dict, asked, contract: Contract, included: dict, where: str) -> None:
    agents = event.get("agent", [])
    types = {(coding.get("system"), coding.get("code")): agent for agent in agents
             for coding in agent.get("type", {}).get("coding", [])}
    patient = types.get((ROLE_CLASS, "PAT"))
    require(patient is not None, f"{where}: no PAT agent")
    identifier = patient.get("who", {}).get("identifier", {})
    require(identifier.get("system") == contract.nhs_number_system, f"{where}: PAT agent's system")
    if asked is not None:
        require(identifier.get("value") == asked, f"{where}: PAT agent is not the asked patient")
    viewer = types.get((ROLE_CLASS, "ASSIGNED"))
    require(viewer is not None, f"{where}: no ASSIGNED agent")
    reference = viewer.get("who", {}).get("reference", "")
    require(re.fullmatch(r"PractitionerRole/[A-Za-z0-9\-.]{1,64}", reference) is not None,
            f"{where}: the ASSIGNED agent does not reference a PractitionerRole")
    require(viewer.get("who", {}).get("display"), f"{where}: the ASSIGNED agent has no display")
    require(event.get("source", {}).get("observer", {}).get("reference") == reference,
            f"{where}: source.observer is not the viewer's PractitionerRole")
    if included is not None:
        role = included.get(reference.split("/", 1)[1])
        require(role is not None, f"{where}: {reference} is not included")
        require(role.get("practitioner", {}).get("display") == viewer["who"]["display"],
                f"{where}: the included PractitionerRole names another person")
    booleans_are_json_booleans(event, where)


def check_history(bundle: dict, asked: str, contract: Contract, include: bool, where: str) -> int:
    r4_structure(bundle, where)
    events = check_searchset(bundle, "AuditEvent", asked, "/cpis/FHIR/R4/AuditEvent", where)
    roles = {entry["resource"]["id"]: entry["resource"] for entry in bundle.get("entry", [])
             if entry["search"]["mode"] == "include"}
    require(bool(roles) == (include and bool(events)),
            f"{where}: PractitionerRoles are included exactly when _include is asked")
    for index, event in enumerate(events):
        check_audit_event(event, asked, contract, roles if include else None, f"{where}.AuditEvent[{index}]")
    return len(events)


def check_care_team_search(bundle: dict, asked: str, contract: Contract, where: str) -> int:
    r4_structure(bundle, where)
    care_teams = check_searchset(bundle, "CareTeam", asked, "/cpis/FHIR/R4/CareTeam", where)
    if not care_teams:
        require("entry" not in bundle, f"{where}: an empty answer has no entries")
    for index, care_team in enumerate(care_teams):
        check_care_team(care_team, asked, contract, f"{where}.CareTeam[{index}]")
    return len(care_teams)


def check_patient(patient: dict, asked: str, contract: Contract, where: str) -> None:
    r4_structure(patient, where)
    require(patient.get("id") == asked, f"{where}: id is not the asked NHS number")
    meta = patient.get("meta", {})
    require(meta.get("versionId"), f"{where}: no meta.versionId (PDS always sends one)")
    require(any(coding.get("system") == "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
                for coding in meta.get("security", [])), f"{where}: no meta.security")
    identifiers = [identifier for identifier in patient.get("identifier", [])
                   if identifier.get("system") == contract.nhs_number_system]
    require(len(identifiers) == 1 and identifiers[0].get("value") == asked,
            f"{where}: no NHS number identifier for the asked patient")
    statuses = [coding for extension in identifiers[0].get("extension", [])
                if extension.get("url") == contract.verification_url
                for coding in extension.get("valueCodeableConcept", {}).get("coding", [])]
    require(any(coding.get("system") == contract.verification_system and coding.get("code") == "01"
                for coding in statuses),
            f"{where}: the verification status is not 01 in PDS's code system")


def check_outcome(outcome: dict, status: int, code: str, system: str, issue_type: str, where: str) -> None:
    r4_structure(outcome, where)
    issue = outcome["issue"][0]
    require(issue.get("severity") in ISSUE_SEVERITIES, f"{where}: issue.severity")
    require(issue.get("code") in ISSUE_TYPES, f"{where}: issue.code is not an IssueType")
    require(issue.get("code") == issue_type, f"{where}: issue.code for {code} is not {issue_type!r}")
    coding = issue.get("details", {}).get("coding", [{}])[0]
    require(coding.get("system") == system, f"{where}: {code} is not in {system}")
    require(coding.get("code") == code, f"{where}: expected {code}")


class Service:
    def __init__(self, base: str, tokens: Path):
        self.base = base
        self.tokens = {name: (tokens / f"{name}.token").read_text().strip()
                       for name in ["clinician", "la"]}

    def request(self, path: str, token: str, headers=None, body=None, method="GET"):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.tokens[token]}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        return status, json.loads(payload)

    def cpis(self, resource: str, nhs: str, token="clinician", trace=True, extra=""):
        query = urllib.parse.quote(f"https://fhir.nhs.uk/Id/nhs-number|{nhs}", safe="")
        headers = {"TraceID": str(uuid.uuid4())} if trace else {}
        return self.request(f"/cpis/FHIR/R4/{resource}?patient:identifier={query}{extra}", token, headers)

    def pds(self, nhs: str):
        return self.request(f"/personal-demographics/FHIR/R4/Patient/{nhs}", "clinician",
                            {"X-Request-ID": str(uuid.uuid4())})


def upload_plan(service: Service, nhs: str) -> None:
    """The local authority user's authority (ZZ9LA) uploads a plan for `nhs`, so that a lookup
    notifies it."""
    care_team = {
        "resourceType": "CareTeam", "status": "active",
        "category": [{"coding": [{"system": SNOMED, "code": "342191000000101",
                                  "display": "Subject to child protection plan"}]}],
        "name": "Validator Test Council",
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}},
        "period": {"start": "2026-01-05"},
        "managingOrganization": [{"identifier": {
            "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "ZZ9LA"}}],
        "telecom": [{"system": "phone", "value": "01632 960999", "use": "work"},
                    {"system": "phone", "value": "07700 900999", "use": "mobile"}],
    }
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"fullUrl": "urn:uuid:" + str(uuid.uuid4()), "resource": care_team,
         "request": {"method": "POST", "url": "CareTeam"}}]}
    status, answer = service.request("/la/FHIR/R4", "la", {"Content-Type": "application/fhir+json"},
                                     json.dumps(bundle).encode(), "POST")
    status_text = answer.get("entry", [{}])[0].get("response", {}).get("status", "")
    if status != 200 or not status_text.startswith("20"):
        raise SystemExit(f"fhir-validate: the test plan upload failed ({status} {status_text})")


def live_answers(service: Service, manifest: dict):
    """Every answer shape the service serves: `(name, check)` pairs, each a thunk that raises
    Invalid, with the answer kept for the self-check."""
    scenarios = manifest["scenarios"]
    with_plan = scenarios["cpp"][0]
    several = scenarios["multiple"][0]
    lac = scenarios["lac"][0]
    unborn = scenarios["unborn"][0]
    no_plan = scenarios["no_plan"][0]
    uploaded = scenarios["no_plan"][1]
    not_in_pds = scenarios["not_in_pds"][0]
    upload_plan(service, uploaded)
    answers = []
    for nhs in [with_plan, several, lac, unborn, uploaded, no_plan]:
        status, body = service.cpis("CareTeam", nhs)
        require(status == 200, f"CareTeam search for a seeded patient answered {status}")
        require((body.get("total") == 0) == (nhs == no_plan),
                "a seeded patient's CareTeam search did not answer as the manifest says")
        answers.append((f"CareTeam search ({'empty' if nhs == no_plan else 'plans'})", "care_team", nhs, body))
    # The lookups above recorded accesses: a history with viewers, with and without _include.
    include = "&_include=" + urllib.parse.quote(GUIDE_INCLUDE, safe="")
    for extra, kind in [(include, "history_include"), ("", "history")]:
        status, body = service.cpis("AuditEvent", with_plan, extra=extra)
        require(status == 200, f"AuditEvent search answered {status}")
        require(body.get("total", 0) >= 1, "the lookups above recorded no access to validate")
        answers.append((f"AuditEvent search {'with' if extra else 'without'} _include", kind, with_plan, body))
    status, body = service.cpis("AuditEvent", no_plan, extra=include)
    answers.append(("AuditEvent search, empty", "history_include", no_plan, body))
    status, body = service.request("/la/FHIR/R4/AuditEvent?since=2000-01-01T00:00:00Z", "la")
    require(status == 200, f"LA notifications answered {status}")
    answers.append(("LA Access to Service Notifications", "notifications", None, body))
    status, body = service.pds(with_plan)
    require(status == 200, f"PDS read answered {status}")
    answers.append(("PDS Patient", "patient", with_plan, body))
    errors = [
        ("CP-IS 400 INVALID_SEARCH_DATA", service.cpis("CareTeam", "9990000019"), "cpis", "INVALID_SEARCH_DATA"),
        ("CP-IS 400 PRECONDITION_FAILED", service.cpis("CareTeam", with_plan, trace=False), "cpis", "PRECONDITION_FAILED"),
        ("CP-IS 403 ACCESS_DENIED", service.cpis("CareTeam", with_plan, token="la"), "cpis", "ACCESS_DENIED"),
        ("PDS 400 INVALID_RESOURCE_ID", service.pds("9990000019"), "pds", "INVALID_RESOURCE_ID"),
        ("PDS 404 RESOURCE_NOT_FOUND", service.pds(not_in_pds), "pds", "RESOURCE_NOT_FOUND"),
    ]
    for name, (status, body), api, code in errors:
        answers.append((name, f"outcome:{api}:{code}", status, body))
    return answers


def check(kind: str, asked, body: dict, contract: Contract, name: str) -> None:
    if kind == "care_team":
        check_care_team_search(body, asked, contract, name)
    elif kind in ("history", "history_include"):
        check_history(body, asked, contract, kind == "history_include", name)
    elif kind == "notifications":
        r4_structure(body, name)
        events = check_searchset(body, "AuditEvent", None, "/la/FHIR/R4/AuditEvent", name)
        require(events, f"{name}: the uploaded plan's lookup sent no notification")
        for index, event in enumerate(events):
            check_audit_event(event, None, contract, None, f"{name}.AuditEvent[{index}]")
    elif kind == "patient":
        check_patient(body, asked, contract, name)
    elif kind.startswith("outcome:"):
        _, api, code = kind.split(":")
        if api == "cpis":
            status, issue_type = contract.cpis_issue_types[code]
            require(asked == status, f"{name}: HTTP {asked}, the error page says {status}")
            check_outcome(body, asked, code, ENGLAND_SPINE, issue_type, name)
        else:
            check_outcome(body, asked, code, contract.pds_spine_system, contract.pds_issue_types[code], name)
    else:
        raise SystemExit(f"unknown kind {kind}")


def broken_copies(answers):
    """Deliberately broken answers, one per rule; each must be refused."""
    by_kind = {}
    for name, kind, asked, body in answers:
        if kind == "care_team" and body.get("total", 0) == 0:
            by_kind.setdefault("care_team_empty", (kind, asked, body))
        else:
            by_kind.setdefault(kind, (kind, asked, body))

    def first_care_team(bundle):
        return bundle["entry"][0]["resource"]

    def first_event(bundle):
        return bundle["entry"][0]["resource"]

    edits = [
        ("CareTeam without name (min 1)", "care_team", lambda b: first_care_team(b).pop("name")),
        ("CareTeam without telecom (min 1)", "care_team", lambda b: first_care_team(b).pop("telecom")),
        ("CareTeam with an unknown element", "care_team", lambda b: first_care_team(b).update(severity="high")),
        ("CareTeam period.start not a date", "care_team", lambda b: first_care_team(b)["period"].update(start="2026-13-45")),
        ("category display not the ValueSet's", "care_team", lambda b: first_care_team(b)["category"][0]["coding"][0].update(display="Child protection plan")),
        ("category code outside the ValueSet", "care_team", lambda b: first_care_team(b)["category"][0]["coding"][0].update(code="123456789")),
        ("telecom use not an R4 code", "care_team", lambda b: first_care_team(b)["telecom"][0].update(use="office")),
        ("subject in another system", "care_team", lambda b: first_care_team(b)["subject"]["identifier"].update(system="https://example.org/id")),
        ("CareTeam claiming a profile", "care_team", lambda b: first_care_team(b).update(meta={"profile": ["https://fhir.nhs.uk/England/StructureDefinition/England-CareTeam-Flag"]})),
        ("total counting wrong", "care_team", lambda b: b.update(total=b["total"] + 1)),
        ("no self link", "care_team", lambda b: b.pop("link")),
        ("self link for another patient", "care_team_empty", lambda b: b["link"][0].update(url=b["link"][0]["url"][:-10] + "9990000018")),
        ("searchset of the wrong type", "care_team_empty", lambda b: b.update(type="collection")),
        ("total as a string", "care_team_empty", lambda b: b.update(total="0")),
        ("AuditEvent without source", "history_include", lambda b: first_event(b).pop("source")),
        ("requestor as a string", "history_include", lambda b: first_event(b)["agent"][1].update(requestor="true")),
        ("recorded not an instant", "history_include", lambda b: first_event(b).update(recorded="yesterday")),
        ("included PractitionerRole missing", "history_include", lambda b: b.update(entry=[e for e in b["entry"] if e["search"]["mode"] == "match"])),
        ("PractitionerRole counted in total", "history_include", lambda b: b.update(total=len(b["entry"]))),
        ("PractitionerRole included without _include", "history", lambda b: b["entry"].append({"fullUrl": "x/PractitionerRole/p", "resource": {"resourceType": "PractitionerRole", "id": "p"}, "search": {"mode": "include"}})),
        ("Patient verification in the England variant system", "patient", lambda b: b["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0].update(system="https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland")),
        ("Patient without meta.versionId", "patient", lambda b: b["meta"].pop("versionId")),
        ("Patient gender not a code", "patient", lambda b: b.update(gender=["female"])),
        ("INVALID_SEARCH_DATA as issue value", "outcome:cpis:INVALID_SEARCH_DATA", lambda b: b["issue"][0].update(code="value")),
        ("CP-IS error in PDS's code system", "outcome:cpis:ACCESS_DENIED", lambda b: b["issue"][0]["details"]["coding"][0].update(system="https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode")),
        ("PDS error in the England code system", "outcome:pds:RESOURCE_NOT_FOUND", lambda b: b["issue"][0]["details"]["coding"][0].update(system=ENGLAND_SPINE)),
        ("OperationOutcome without issue", "outcome:pds:INVALID_RESOURCE_ID", lambda b: b.pop("issue")),
    ]
    for description, kind, edit in edits:
        if kind not in by_kind:
            raise SystemExit(f"fhir-validate: no live {kind} answer to break for {description!r}")
        real_kind, asked, body = by_kind[kind]
        broken = copy.deepcopy(body)
        edit(broken)
        yield description, real_kind, asked, broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--tokens", required=True, type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--fixtures", required=True, type=Path)
    arguments = parser.parse_args()
    contract = Contract(arguments.fixtures)
    service = Service(arguments.base, arguments.tokens)
    answers = live_answers(service, json.loads(arguments.manifest.read_text()))

    # Not vacuous: every broken copy must be refused.
    accepted = []
    refused = 0
    for description, kind, asked, broken in broken_copies(answers):
        try:
            check(kind, asked, broken, contract, description)
            accepted.append(description)
        except Invalid:
            refused += 1
    for description in accepted:
        print(f"fhir-validate: a broken answer was accepted: {description}", file=sys.stderr)

    failures = 0
    for name, kind, asked, body in answers:
        try:
            check(kind, asked, body, contract, name)
            print(f"ok: {name}")
        except Invalid as error:
            failures += 1
            print(f"INVALID: {error}", file=sys.stderr)
    print(f"fhir-validate: {len(answers)} live answers checked, {failures} invalid; "
          f"{refused} broken answers refused, {len(accepted)} accepted")
    return 1 if failures or accepted or not answers else 0


if __name__ == "__main__":
    sys.exit(main())
