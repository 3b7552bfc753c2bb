"""Every example of seed 000, replayed in the document's order against the real server.

The examples (requests and answers) are read from data/seed000_examples.json, extracted from
the seed by extract_seed000.py; data/seed000_replay.json says how the objects the document
refers to but never creates are made first, which requests produce its failing examples,
and where the document contradicts itself. SIDs the examples create are ours from then on.

Each answer must have the example's envelope, every key the example shows (in every record
of a search), each value of the example's JSON type (null only where our OpenAPI document
says the field may be null), and for failing examples the same HTTP status, errorCode,
message and data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from api_cpaas.cpaas_client import CpaasClient
from api_cpaas.openapi_check import nullable_keys

DATA = Path(__file__).parent / "data"
EXAMPLES = json.loads((DATA / "seed000_examples.json").read_text())["examples"]
PLAN = json.loads((DATA / "seed000_replay.json").read_text())
SCHEMA = {
    "workspaces": "Workspace",
    "taskqueues": "TaskQueue",
    "workers": "Worker",
    "activities": "Activity",
    "workflows": "Workflow",
    "tasks": "Task",
}
SEED_SID = re.compile(r"[A-Z]{2}[0-9A-Za-z]{32,}")


class Sids:
    """The document's SIDs and ours, and substitution of ours into its requests."""

    def __init__(self) -> None:
        self.ours: dict[str, str] = {}

    def add(self, seed: str, ours: str) -> None:
        self.ours[seed] = ours

    def substitute(self, value: Any) -> Any:
        if isinstance(value, str):
            # Whole tokens only: the failing examples name SIDs one character longer.
            return SEED_SID.sub(lambda m: self.ours.get(m.group(0), m.group(0)), value)
        if isinstance(value, dict):
            return {k: self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_problems(
    ours: Any, seed: Any, where: str, nullable: frozenset[str], types: dict[str, str]
) -> list[str]:
    if isinstance(seed, dict):
        if not isinstance(ours, dict):
            return [f"{where}: expected an object, got {json_type(ours)}"]
        found: list[str] = []
        for key, seed_value in seed.items():
            if key not in ours:
                found.append(f"{where}.{key}: missing")
                continue
            expected = types.get(key, json_type(seed_value))
            if ours[key] is None and expected != "null":
                if key not in nullable:
                    found.append(f"{where}.{key}: null where the example has a {expected}")
                continue
            if isinstance(seed_value, dict | list) and key not in types:
                found += shape_problems(ours[key], seed_value, f"{where}.{key}", nullable, {})
            elif json_type(ours[key]) != expected:
                found.append(
                    f"{where}.{key}: {json_type(ours[key])} where the example has {expected}"
                )
        return found
    if isinstance(seed, list):
        if not isinstance(ours, list):
            return [f"{where}: expected an array"]
        if seed and not ours:
            return [f"{where}: empty where the example shows records"]
        records = [r for r in seed if isinstance(r, dict)]
        if not records:
            return []
        # Keys every record of the example shows, each typed as the example's records have it.
        common = {k: v for k, v in records[0].items() if all(k in r for r in records)}
        found = []
        for i, record in enumerate(ours):
            found += shape_problems(record, common, f"{where}[{i}]", nullable, {})
        return found
    return []


def test_every_example_of_the_seed_answers_as_the_document_shows(api: CpaasClient) -> None:
    sids = Sids()
    for member in PLAN["cast"]:
        data = api.ok(
            member["method"], sids.substitute(member["path"]), sids.substitute(member.get("body"))
        )
        if member["seed_sid"] is not None:
            sid = data["result"][0]["sid"] if "result" in data else data["sid"]
            sids.add(member["seed_sid"], sid)

    by_id = {e["id"]: e for e in EXAMPLES}
    replayed: list[str] = []
    for example in EXAMPLES:
        eid = example["id"]
        errata = PLAN["errata"].get(eid, {})
        request = errata.get("request") or example["request"] or PLAN["failing_requests"][eid]
        body = request["body"]
        for key, (old, new) in errata.get("replace_in_body", {}).items():
            assert old in body[key], f"{eid}: erratum no longer applies"
            body = {**body, key: body[key].replace(old, new)}
        method, path = request["method"], sids.substitute(request["path"])
        response = api.request(method, path, sids.substitute(body))
        expected = example["response"]
        assert response.status_code == example["status"], f"{eid} {method} {path}: {response.text}"
        answer = response.json()
        if example["status"] != 200:
            assert answer == expected, f"{eid}: {answer} != {expected}"
            replayed.append(eid)
            continue
        assert set(answer) == {"code", "message", "data"}, f"{eid}: {answer}"
        assert (answer["code"], answer["message"]) == (200, "OK"), f"{eid}: {answer}"
        seed_data = (
            by_id[errata["shape_of"]]["response"]["data"]
            if "shape_of" in errata
            else expected["data"]
        )
        nullable = nullable_keys(SCHEMA[example["resource"]])
        if example["operation"] == "search":
            top = {k: v for k, v in seed_data.items() if k != "result"}
            found = shape_problems(answer["data"], top, eid, frozenset(), {})
            found += shape_problems(
                answer["data"]["result"], seed_data["result"], f"{eid}.result", nullable, {}
            )
        else:
            found = shape_problems(
                answer["data"], seed_data, eid, nullable, errata.get("types", {})
            )
        assert not found, "\n".join(found)
        if example["operation"] == "create":
            sids.add(expected["data"]["sid"], answer["data"]["sid"])
        replayed.append(eid)

    assert len(replayed) == len(EXAMPLES) == 46
