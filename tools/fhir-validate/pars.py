"""Check AuditEvents against the England-AuditEvent-PARS profile, read at run time.

The profile (../shared/fixtures/nhs-ig/profiles/England-AuditEvent-PARS.xml) is read as
published: its differential is turned into a tree of elements, and each event is checked
against it: slicing (discriminators by value, e.g. `who.type` on agents and `type.system` +
`type.code` on entities; `closed` rules refuse anything matching no slice), each slice's and
each element's min/max, fixedUri/fixedCode/fixedString, required (`min` >= 1) elements inside
slices (the endpoint's `name`, its exactly two `detail`s and their slices, the patient's role
system, `source.observer.identifier`), the Identifier profiles named on identifiers (product id
or accredited system), and `value[x]` types. R4 structure (required base elements, data types)
comes from fhir.resources through validate.py's `r4_structure`.

Not vacuous: before checking anything it builds broken copies of a good event, one per rule,
and fails unless every one is refused. Then it checks every event in the files given (JSON
files, each an AuditEvent or a Bundle of them, or NDJSON) and fails on any invalid event. The
published PARS examples are reported separately and never fail the run (the patient-flag and
app-restricted examples use a `Device` agent, which the closed agent slicing does not allow).

What it does not read: the base profile England-AuditEvent (not published with the fixtures)
and the Identifier profiles themselves (their systems are named below).

Usage: pars.py [--fixtures DIR] FILE_OR_DIR...
"""

import argparse
import copy
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate import Invalid, r4_structure  # noqa: E402  (the venv's fhir.resources)

FHIR = "{http://hl7.org/fhir}"
PROFILE_FILE = "nhs-ig/profiles/England-AuditEvent-PARS.xml"
PROFILE_URL = "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"
# The Identifier profiles the PARS profile names, by the system each fixes (the profiles are
# not among the fixtures).
IDENTIFIER_PROFILES = {
    "https://fhir.nhs.uk/England/StructureDefinition/England-Identifier-Product-Id":
        "https://fhir.nhs.uk/Id/product-id",
    "https://fhir.nhs.uk/England/StructureDefinition/England-Identifier-Accredited-System":
        "https://fhir.nhs.uk/Id/accredited-system",
}
FIXED = ("fixedUri", "fixedCode", "fixedString")


class Node:
    """One element of the differential: `name` (the JSON key), `slice` (or None)."""

    def __init__(self, name, slice_name=None):
        self.name = name
        self.slice = slice_name
        self.element = {}
        self.children = {}

    def child(self, key):
        if key not in self.children:
            self.children[key] = Node(*key)
        return self.children[key]

    def descend(self, path):
        """The unsliced descendant at a dotted path, or None."""
        node = self
        for name in path.split("."):
            node = node.children.get((name, None))
            if node is None:
                return None
        return node


def read_profile(path: Path) -> Node:
    root = ET.parse(path).getroot()
    url = root.find(f"{FHIR}url").get("value")
    if url != PROFILE_URL:
        raise SystemExit(f"pars: {path} is {url}, not {PROFILE_URL}")
    tree = Node("AuditEvent")
    elements = root.findall(f"{FHIR}differential/{FHIR}element")
    if not elements:
        raise SystemExit(f"pars: {path} has no differential")
    for element in elements:
        segments = element.get("id").split(".")
        if segments[0] != "AuditEvent":
            raise SystemExit(f"pars: unexpected element {element.get('id')}")
        node = tree
        for segment in segments[1:]:
            name, _, slice_name = segment.partition(":")
            node = node.child((name, slice_name or None))
        info = node.element
        for key in ("min", "max", *FIXED):
            found = element.find(f"{FHIR}{key}")
            if found is not None:
                info[key] = found.get("value")
        slicing = element.find(f"{FHIR}slicing")
        if slicing is not None:
            info["slicing"] = {
                "paths": [d.find(f"{FHIR}path").get("value")
                          for d in slicing.findall(f"{FHIR}discriminator")],
                "types": [d.find(f"{FHIR}type").get("value")
                          for d in slicing.findall(f"{FHIR}discriminator")],
                "rules": slicing.find(f"{FHIR}rules").get("value"),
            }
            if set(info["slicing"]["types"]) != {"value"}:
                raise SystemExit(f"pars: discriminator types {info['slicing']['types']} not supported")
        types = element.findall(f"{FHIR}type")
        if types:
            info["types"] = [t.find(f"{FHIR}code").get("value") for t in types]
            info["profiles"] = [p.get("value") for t in types for p in t.findall(f"{FHIR}profile")]
            unknown = [p for p in info["profiles"] if p not in IDENTIFIER_PROFILES]
            if unknown and "Identifier" in info["types"]:
                raise SystemExit(f"pars: identifier profile not known here: {unknown}")
    return tree


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def value_at(item, path):
    for name in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(name)
    return item


def fixed_of(node):
    for key in FIXED:
        if key in node.element:
            return node.element[key]
    return None


def cardinality(node, count, where):
    minimum = int(node.element.get("min", "0"))
    maximum = node.element.get("max", "*")
    if count < minimum:
        raise Invalid(f"{where}: {count} present, the profile requires at least {minimum}")
    if maximum != "*" and count > int(maximum):
        raise Invalid(f"{where}: {count} present, the profile allows at most {maximum}")


def check_values(node, values, where):
    """Checks of one element's own constraints on its values (not its children)."""
    fixed = fixed_of(node)
    for index, value in enumerate(values):
        at = f"{where}[{index}]" if len(values) > 1 else where
        if fixed is not None and value != fixed:
            raise Invalid(f"{at}: must be the fixed value {fixed!r}")
        if "Identifier" in node.element.get("types", []) and node.element.get("profiles"):
            systems = {IDENTIFIER_PROFILES[p] for p in node.element["profiles"]}
            if not isinstance(value, dict) or value.get("system") not in systems:
                raise Invalid(f"{at}: identifier system must be one of {sorted(systems)}")


def check_node(node, item, where):
    """Check `item` (a JSON object) against the children of `node`."""
    names = {name for name, _ in node.children}
    for name in sorted(names):
        if name == "value[x]":
            base = node.children.get((name, None))
            allowed = ["value" + t[0].upper() + t[1:] for t in base.element.get("types", [])]
            present = [key for key in item if key.startswith("value")]
            if allowed and (len(present) != 1 or present[0] not in allowed):
                raise Invalid(f"{where}.value[x]: must be one of {allowed}, found {present}")
            continue
        values = as_list(item.get(name))
        label = (lambda index: f"[{index}]") if isinstance(item.get(name), list) else (lambda index: "")
        base = node.children.get((name, None))
        slices = [child for (child_name, slice_name), child in node.children.items()
                  if child_name == name and slice_name]
        at = f"{where}.{name}"
        if base is not None:
            cardinality(base, len(values), at)
            check_values(base, values, at)
            for index, value in enumerate(values):
                if isinstance(value, dict) and base.children:
                    check_node(base, value, f"{at}{label(index)}")
        if slices:
            slicing = base.element.get("slicing") if base is not None else None
            if slicing is None:
                raise SystemExit(f"pars: slices of {at} without a slicing")
            members = {id(s): [] for s in slices}
            for index, value in enumerate(values):
                matched = [s for s in slices if all(
                    fixed_of(s.descend(path)) is not None
                    and value_at(value, path) == fixed_of(s.descend(path))
                    for path in slicing["paths"])]
                if not matched and slicing["rules"] == "closed":
                    described = ", ".join(f"{p}={value_at(value, p)!r}" for p in slicing["paths"])
                    raise Invalid(f"{at}{label(index)}: matches no slice of the closed slicing ({described})")
                for s in matched:
                    members[id(s)].append((index, value))
            for s in slices:
                slice_at = f"{at}:{s.slice}"
                cardinality(s, len(members[id(s)]), slice_at)
                for index, value in members[id(s)]:
                    check_values(s, [value], f"{slice_at}{label(index)}")
                    check_node(s, value, f"{slice_at}{label(index)}")


def check_event(tree, event, where):
    if not isinstance(event, dict) or event.get("resourceType") != "AuditEvent":
        raise Invalid(f"{where}: not an AuditEvent")
    r4_structure(event, where)
    check_node(tree, event, where)


def events_in(path: Path):
    """(name, event) for every AuditEvent in a JSON file, a Bundle of them, or NDJSON."""
    text = path.read_text()
    if path.suffix == ".ndjson":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield f"{path.name}:{number}", json.loads(line)
        return
    document = json.loads(text)
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        for index, entry in enumerate(document.get("entry", [])):
            yield f"{path.name}#entry{index}", entry.get("resource")
    else:
        yield path.name, document


def broken_copies(good):
    """One broken copy of `good` per rule, with a fragment of the reason it must be refused for."""
    def agents_of(event, who_type):
        return [a for a in event["agent"] if a["who"]["type"] == who_type]

    def entity(event, system, code):
        return next(e for e in event["entity"]
                    if e["type"]["system"] == system and e["type"]["code"] == code)

    endpoint = ("http://hl7.org/fhir/resource-types", "Endpoint")
    patient = ("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1")
    transaction = ("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "XrequestId")
    edits = [
        ("an extra entity (the old chain entity)", "closed slicing", lambda e: e["entity"].append({
            "what": {"identifier": {"system": "https://cpis-viewer.dev/Id/device", "value": "d"}},
            "type": {"system": "https://cpis-viewer.dev/CodeSystem/audit-chain", "code": "chain"}})),
        ("a Device agent", "closed slicing", lambda e: agents_of(e, "Endpoint")[0]["who"].update(type="Device")),
        ("no organisation agent", "agent:organisation: 0 present", lambda e: e.update(
            agent=[a for a in e["agent"] if a["who"]["type"] != "Organization"])),
        ("three organisation agents", "at most 2", lambda e: e["agent"].extend(
            copy.deepcopy(agents_of(e, "Organization")) * 2)),
        ("two userRole agents", "agent:userRole: 2 present", lambda e: e["agent"].append(
            copy.deepcopy(agents_of(e, "PractitionerRole")[0]))),
        ("a device agent identified by our own device system", "identifier system", lambda e: agents_of(e, "Endpoint")[0]
            ["who"]["identifier"].update(system="https://cpis-viewer.dev/Id/device")),
        ("no transaction entity", "entity:transaction: 0 present", lambda e: e["entity"].remove(entity(e, *transaction))),
        ("two patient entities", "entity:patient: 2 present", lambda e: e["entity"].append(copy.deepcopy(entity(e, *patient)))),
        ("a wrong fixed code (patient role 2)", "fixed value", lambda e: entity(e, *patient)["role"].update(code="2")),
        ("no patient role system", "role.system: 0 present", lambda e: entity(e, *patient)["role"].pop("system")),
        ("an endpoint with one detail", "detail: 1 present", lambda e: entity(e, *endpoint)["detail"].pop()),
        ("an endpoint with three details", "detail: 3 present", lambda e: entity(e, *endpoint)["detail"].append(
            {"type": "extra", "valueString": "x"})),
        ("an endpoint without interactionIdentifier", "detail:productIdentifier: 2 present", lambda e: entity(e, *endpoint)["detail"][1].update(
            type="productIdentifier")),
        ("an endpoint detail as base64Binary", "value[x]", lambda e: entity(e, *endpoint)["detail"][0].update(
            valueBase64Binary="Q1AtSVM=", valueString=None) or entity(e, *endpoint)["detail"][0].pop("valueString")),
        ("an endpoint without name", "name: 0 present", lambda e: entity(e, *endpoint).pop("name")),
        ("an endpoint identified by our own system", "identifier system", lambda e: entity(e, *endpoint)["what"]
            ["identifier"].update(system="https://cpis-viewer.dev/Id/endpoint")),
        ("no observer identifier", "observer.identifier: 0 present", lambda e: e["source"]["observer"].pop("identifier")),
        ("a custom observer system", "identifier system", lambda e: e["source"]["observer"]["identifier"].update(
            system="https://cpis-viewer.dev/Id/device")),
        ("no recorded (R4 structure)", "not valid R4", lambda e: e.pop("recorded")),
        ("recorded not an instant (R4 structure)", "not valid R4", lambda e: e.update(recorded="yesterday")),
        ("requestor as text (R4 structure)", "not valid R4", lambda e: e["agent"][0].update(requestor="maybe")),
    ]
    for description, reason, edit in edits:
        broken = copy.deepcopy(good)
        edit(broken)
        yield description, reason, broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_fixtures = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
    parser.add_argument("--fixtures", type=Path, default=default_fixtures)
    parser.add_argument("inputs", nargs="+", type=Path)
    arguments = parser.parse_args()
    tree = read_profile(arguments.fixtures / PROFILE_FILE)

    events = []
    for path in arguments.inputs:
        files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".ndjson")) \
            if path.is_dir() else [path]
        for file in files:
            events.extend(events_in(file))
    if not events:
        print("pars: no events to check", file=sys.stderr)
        return 1

    # Not vacuous: a broken copy of a good event per rule, each refused.
    good = next((event for name, event in events if "two-plans" in name), events[0][1])
    check_event(tree, good, "the event the broken copies are made from")
    accepted = []
    refused = 0
    for description, reason, broken in broken_copies(good):
        try:
            check_event(tree, broken, description)
            accepted.append(description)
        except Invalid as error:
            if reason in str(error):
                refused += 1
                print(f"refused as it should be: {error}")
            else:
                accepted.append(f"{description} (refused for another reason: {error})")
    for description in accepted:
        print(f"pars: a broken event was accepted: {description}", file=sys.stderr)

    failures = 0
    for name, event in events:
        try:
            check_event(tree, event, name)
            print(f"ok: {name}")
        except Invalid as error:
            failures += 1
            print(f"INVALID: {error}", file=sys.stderr)

    conforming = []
    for example in sorted((arguments.fixtures / "nhs-ig").glob("PARS-AuditEvent-*.json")):
        try:
            check_event(tree, json.loads(example.read_text()), example.name)
            conforming.append(example.name)
            print(f"published example conforms: {example.name}")
        except Invalid as error:
            print(f"published example does not conform (reported, not failed): {error}")

    print(f"pars: {len(events)} events checked against {PROFILE_URL}, {failures} invalid; "
          f"{refused} broken events refused, {len(accepted)} accepted; "
          f"published examples: {len(conforming)} conform")
    return 1 if failures or accepted else 0


if __name__ == "__main__":
    sys.exit(main())
